"""A Huey application whose tasks run in airlock scopes (run: huey_consumer tasks.huey)."""

import os

from huey import RedisHuey

import airlock
import airlock_huey

huey = RedisHuey("docs_shop", url=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
airlock_huey.scope_tasks(huey)  # every task the consumer runs is a scope

SENT: list[str] = []  # what the tasks did, for the examples' tests


@huey.task()
def send_email(user_id: int) -> None:
    SENT.append(f"email to user {user_id}")


@huey.task(retries=3, retry_delay=10)
def notify_warehouse(order_id: int) -> None:
    SENT.append(f"warehouse notified of order {order_id}")


@huey.task()
def process_order(order_id: int) -> None:
    airlock.enqueue(notify_warehouse, order_id)  # escapes only if this task succeeds
    airlock.enqueue(send_email, order_id * 10)
    if order_id < 0:
        raise ValueError("no such order")
