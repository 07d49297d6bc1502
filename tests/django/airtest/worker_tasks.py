"""A task whose transaction rolls back after it enqueued an effect."""

from django.db import transaction
from shop.models import Order
from shop.tasks import send_notification
from shop_project.celery import app

import airlock


@app.task
@transaction.atomic
@airlock.scoped()
def mark_paid_then_fail(order_id: int) -> None:
    order = Order.objects.select_for_update().get(id=order_id)
    order.status = "paid"
    order.save()
    airlock.enqueue(send_notification, order_id=order_id)
    raise RuntimeError("the payment provider changed its mind")
