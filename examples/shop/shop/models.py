"""The shop's models. ``Order.process()`` expresses its side effects right where they belong."""

from __future__ import annotations

from django.db import models

import airlock


class Order(models.Model):
    customer = models.CharField(max_length=100)
    total_cents = models.PositiveIntegerField()
    status = models.CharField(max_length=20, default="new")

    def process(self) -> None:
        from shop.tasks import notify_warehouse, send_confirmation

        self.status = "processed"
        self.save(update_fields=["status"])
        airlock.enqueue(notify_warehouse, order_id=self.pk)  # held by the caller's scope
        airlock.enqueue(send_confirmation, order_id=self.pk)  # until it decides

    def __str__(self) -> str:
        return f"order #{self.pk} ({self.customer})"


class Effect(models.Model):
    """What a task actually did, and where it ran: the demo's evidence."""

    task = models.CharField(max_length=50)
    order_id = models.BigIntegerField()
    ran_in = models.CharField(max_length=50)
    order_status = models.CharField(max_length=20)

    class Meta:
        ordering = ["pk"]
