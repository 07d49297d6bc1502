"""Celery tasks. With the sync executor they run in-process; with Celery, on a worker."""

from __future__ import annotations

import os

from celery import current_task, shared_task
from django.db import transaction

import airlock


def _record(task: str, order_id: int) -> None:
    from shop.models import Effect, Order

    request = getattr(current_task, "request", None)
    worker = getattr(request, "hostname", None) if request is not None else None
    ran_in = f"worker pid {os.getpid()}" if worker else "this process"
    status = Order.objects.filter(pk=order_id).values_list("status", flat=True).first()
    Effect.objects.create(task=task, order_id=order_id, ran_in=ran_in, order_status=str(status))


@shared_task
def send_confirmation(order_id: int) -> None:
    """Email the customer (here: record that we would have)."""
    _record("send_confirmation", order_id)


@shared_task
def notify_warehouse(order_id: int) -> None:
    """Tell the warehouse to pick the order."""
    _record("notify_warehouse", order_id)


@shared_task
def send_notification(order_id: int) -> None:
    """Tell the customer that their order changed."""
    _record("send_notification", order_id)


@shared_task
def send_shipping_email(order_id: int) -> None:
    """Tell the customer the parcel left."""
    _record("send_shipping_email", order_id)


@shared_task
@airlock.scoped()
def ship_order(order_id: int) -> None:
    """Runs in its own DjangoScope: the email goes only after the status change commits."""
    from shop.models import Order

    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        order.status = "shipped"
        order.save(update_fields=["status"])
        airlock.enqueue(send_shipping_email, order_id=order_id)
