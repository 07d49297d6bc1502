"""Plain functions a django-q2 cluster runs (a module of a Django app)."""

import airlock


def send_email(user_id: int) -> str:
    return f"email to user {user_id}"


def notify_warehouse(order_id: int) -> str:
    return f"warehouse notified of order {order_id}"


def process_order(order_id: int) -> str:
    airlock.enqueue(notify_warehouse, order_id, _dispatch_options={"task_name": f"ship-{order_id}"})
    if order_id < 0:
        raise ValueError("no such order")  # the cluster's scope discards what it enqueued
    return f"order {order_id} processed"
