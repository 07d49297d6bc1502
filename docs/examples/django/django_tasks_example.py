"""The django_tasks executor (Django >= 6.0): Django's own tasks framework."""

# ruff: noqa: E402  (each snippet shows its own imports)

# --8<-- [start:settings]
AIRLOCK = {"EXECUTOR": "django_tasks"}
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
# --8<-- [end:settings]

# --8<-- [start:task]
from django.tasks import task

import airlock


@task
def send_receipt(order_id): ...


def checkout(order):
    airlock.enqueue(send_receipt.func, order_id=order.id)  # the Task's function
    airlock.enqueue(
        "django_tasks_example.send_receipt",  # or its dotted path
        order_id=order.id,
        _dispatch_options={"priority": 10, "queue_name": "default"},
    )


# --8<-- [end:task]
