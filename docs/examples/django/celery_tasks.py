"""The seed's Celery task under Django: @airlock.scoped() opens a DjangoScope."""

# ruff: noqa: E402, F841  (the snippets below are the seed's text, imports included)

from celery import shared_task
from django.db import transaction
from shop.models import Order
from shop.tasks import _record
from shop_project.celery import app


@shared_task
def send_notification(order_id: int) -> None:
    _record("send_notification", order_id)


# --8<-- [start:task]
import airlock


@app.task
@airlock.scoped()
def process_order(order_id):
    # Automatically uses DjangoScope with transaction.on_commit()
    order = Order.objects.get(id=order_id)
    airlock.enqueue(send_notification, order_id=order_id)


# --8<-- [end:task]


# --8<-- [start:atomic]
@app.task
@transaction.atomic
@airlock.scoped()
def mark_paid(order_id):
    order = Order.objects.select_for_update().get(id=order_id)
    order.status = "paid"
    order.save()
    airlock.enqueue(send_notification, order_id=order_id)
    # flushed here, but held back until the task's transaction commits


# --8<-- [end:atomic]
