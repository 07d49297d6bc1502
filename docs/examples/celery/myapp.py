"""The Celery app and tasks the other examples use.

The broker comes from ``CELERY_BROKER_URL``. Nothing configures an executor:
airlock sends Celery tasks to the ``celery`` executor by itself, which
publishes them with ``.apply_async()`` when their scope flushes.
"""

import os

from celery import Celery

app = Celery("myapp", broker=os.environ.get("CELERY_BROKER_URL", "redis://localhost:6379/0"))

ORDERS = {}


class Order:
    def __init__(self, order_id):
        self.id = order_id
        self.status = "new"


def fetch_order(order_id):
    if order_id < 0:
        raise LookupError(f"no order {order_id}")
    return ORDERS.setdefault(order_id, Order(order_id))


def save_order(order):
    ORDERS[order.id] = order


@app.task
def send_email(user_id=None, order_id=None):
    print(f"emailing user={user_id} order={order_id}")


@app.task
def process_data(item_id):
    print(f"processing item {item_id}")


@app.task
def update_analytics(order_id):
    print(f"analytics for order {order_id}")
