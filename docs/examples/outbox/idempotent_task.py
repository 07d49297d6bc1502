"""A Celery task that recognises a message delivered twice by its task id."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.core.cache import cache

CHARGES: list[int] = []


# --8<-- [start:task]
@shared_task(bind=True)
def charge_card(self: Any, order_id: int) -> None:
    # The outbox sends each row's intent_id as the Celery task id, so a message the
    # relay published again after a crash arrives with the same id.
    if not cache.add(f"charge_card:{self.request.id}", True, timeout=7 * 24 * 3600):
        return  # already done
    CHARGES.append(order_id)  # the real side effect


# --8<-- [end:task]
