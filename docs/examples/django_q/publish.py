"""Enqueue django-q2 tasks through airlock, from a view or any code of the project."""

import airlock


def place_order(order_id: int, user_id: int) -> None:
    with airlock.scope():  # AIRLOCK = {"EXECUTOR": "django_q"}
        airlock.enqueue("tasks.process_order", order_id, _dispatch_options={"group": "orders"})
        airlock.enqueue(
            "tasks.send_email", user_id, _dispatch_options={"task_name": f"welcome-{user_id}"}
        )
    # Both are on the cluster's broker now; an exception in the block would have sent neither.
