import os

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AsyncIO

import airlock
from airlock_dramatiq import AirlockMiddleware

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

broker = RedisBroker(url=REDIS_URL)
# Every message a worker processes runs in an airlock scope.
broker.add_middleware(AirlockMiddleware(executor="dramatiq"))
broker.add_middleware(AsyncIO())  # only for `async def` actors
dramatiq.set_broker(broker)


def log(line: str) -> None:
    # The actors note what they did in Redis, so the docs tests can check it.
    broker.client.rpush("dramatiq_docs:log", line)


@dramatiq.actor(queue_name="dramatiq_emails")
def send_email(user_id: int) -> None:
    log(f"email to user {user_id}")


@dramatiq.actor(queue_name="dramatiq_orders")
def notify_warehouse(order_id: int) -> None:
    log(f"warehouse notified of order {order_id}")


@dramatiq.actor(queue_name="dramatiq_orders", max_retries=0)
def process_order(order_id: int) -> None:
    airlock.enqueue(notify_warehouse, order_id)
    if order_id < 0:
        raise ValueError("no such order")  # the warehouse is never notified
