"""The checkout, durable: the scope closes inside the transaction that saves the order."""

from __future__ import annotations

from django.db import transaction
from shop.models import Order

import airlock


# --8<-- [start:checkout]
def checkout(customer: str, total_cents: int) -> Order:
    with transaction.atomic(), airlock.scope():
        order = Order.objects.create(customer=customer, total_cents=total_cents)
        order.process()  # enqueues notify_warehouse and send_confirmation
    # The scope closed inside the transaction, so COMMIT wrote the order and two outbox
    # rows together; right after it, the executor published both and marked them delivered.
    return order


# --8<-- [end:checkout]


# --8<-- [start:one-path]
def refund(order: Order) -> None:
    # Only this path is durable; the rest of the project keeps DjangoScope.
    with transaction.atomic(), airlock.scope(_cls="outbox"):
        order.status = "refunded"
        order.save(update_fields=["status"])
        airlock.enqueue("shop.tasks.send_confirmation", order_id=order.pk)


# --8<-- [end:one-path]
