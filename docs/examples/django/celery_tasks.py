"""Celery tasks of a Django project, each run in a scope of its own (a DjangoScope)."""

# ruff: noqa: E402, F811  (each snippet shows its own imports, again)

# --8<-- [start:task]
from shop.models import Order
from shop.tasks import send_notification
from shop_project.celery import app

import airlock


@app.task
@airlock.scoped()  # with the Django app installed, this scope is a DjangoScope
def process_order(order_id):
    order = Order.objects.get(id=order_id)
    airlock.enqueue(send_notification, order_id=order.id)


# --8<-- [end:task]


# --8<-- [start:atomic]
from django.db import transaction
from shop.models import Order
from shop.tasks import send_notification
from shop_project.celery import app

import airlock


@app.task
@transaction.atomic
@airlock.scoped()
def mark_paid(order_id):
    order = Order.objects.select_for_update().get(id=order_id)
    order.status = "paid"
    order.save()
    airlock.enqueue(send_notification, order_id=order_id)
    # the scope ends here, inside the transaction: the message waits for its commit


# --8<-- [end:atomic]
