"""DjangoScope: what a rolled-back savepoint does to the effects enqueued inside it."""

# ruff: noqa: E402, F811  (each snippet shows its own imports, again)

# --8<-- [start:rollback]
from django.db import IntegrityError, transaction
from shop.models import Order
from shop.tasks import notify_warehouse

import airlock


def charge(order):
    if order.customer == "duplicate":  # stands in for the payment provider saying no
        raise IntegrityError("duplicate payment reference")


def import_orders(rows):
    with airlock.scope():  # a DjangoScope, once the app is installed
        for row in rows:
            try:
                with transaction.atomic():
                    order = Order.objects.create(**row)
                    airlock.enqueue(notify_warehouse, order_id=order.id)
                    charge(order)  # may raise IntegrityError
            except IntegrityError:
                continue  # this row's notify_warehouse is rolled back with it
    # only the rows that committed notify the warehouse


# --8<-- [end:rollback]


# --8<-- [start:using]
from django.db import transaction
from shop.models import Order
from shop.tasks import notify_warehouse

import airlock


def archive(order_id):
    with transaction.atomic(using="sqlite"), airlock.scope(using="sqlite"):
        Order.objects.using("sqlite").create(customer="archived", total_cents=0)
        airlock.enqueue(notify_warehouse, order_id=order_id)
    # dispatched when the "sqlite" database's transaction commits


# --8<-- [end:using]
