"""The outbox in Django's admin: read-only, filterable by status, for operators.

Read-only for everyone, superusers included: no add, no change, no delete
(and so no "delete selected" action). A row deleted by hand is an effect lost
without a trace; a dead row is made pending again with ``manage.py
airlock_relay --retry-dead``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest

from airlock_django.models import OutboxMessage

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[OutboxMessage]
else:
    _ModelAdmin = admin.ModelAdmin


@admin.register(OutboxMessage)
class OutboxMessageAdmin(_ModelAdmin):
    """Rows are written by the outbox and changed by the relay only; the admin shows them."""

    list_display = ("id", "task", "status", "attempts", "enqueued_at", "delivered_at", "last_error")
    list_filter = ("status", "task", "executor")
    search_fields = ("intent_id", "task")
    ordering = ("-id",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Rows come from ``OutboxScope`` only."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Status changes go through the relay (``--retry-dead``), not by hand."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """A pending row deleted is an effect lost; delivered rows go with ``--prune``."""
        return False
