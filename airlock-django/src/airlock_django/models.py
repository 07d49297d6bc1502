"""The outbox table: effects written in the application's transaction, relayed after it."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import models


class OutboxMessage(models.Model):
    """One allowed intent, stored as JSON until an executor has published it.

    Rows are written by ``OutboxScope`` in the same transaction as the
    application's own writes, published right after the commit (and marked
    ``DELIVERED``), and otherwise picked up by ``manage.py airlock_relay``.
    Nothing here is pickled: ``payload`` is a JSON text of the arguments,
    keyword arguments and dispatch options, a row names its task and executor,
    and the relay only dispatches names the application registered.
    """

    PENDING = 0
    DELIVERED = 1
    DEAD = 2
    REJECTED = 3
    STATUSES = [
        (PENDING, "pending"),
        (DELIVERED, "delivered"),
        (DEAD, "dead"),
        (REJECTED, "rejected"),
    ]

    intent_id: models.UUIDField[uuid.UUID | str, uuid.UUID] = models.UUIDField(
        unique=True,
        help_text="Stable id, sent as the message id.",
    )
    task: models.CharField[str, str] = models.CharField(
        max_length=255, help_text="Registered task name or dotted path."
    )
    executor: models.CharField[str, str] = models.CharField(
        max_length=255, help_text="Executor name or dotted path."
    )
    payload: models.TextField[str, str] = models.TextField(
        help_text='JSON: {"args": [...], "kwargs": {...}, "options": {...}}.'
    )
    status: models.PositiveSmallIntegerField[int, int] = models.PositiveSmallIntegerField(
        choices=STATUSES, default=PENDING
    )
    attempts: models.PositiveIntegerField[int, int] = models.PositiveIntegerField(default=0)
    enqueued_at: models.DateTimeField[datetime, datetime] = models.DateTimeField(
        help_text="When the scope wrote it (its flush)."
    )
    next_attempt_at: models.DateTimeField[datetime, datetime] = models.DateTimeField(
        help_text="The relay leaves it alone until then."
    )
    delivered_at: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(
        null=True, blank=True
    )
    last_error: models.TextField[str, str] = models.TextField(blank=True, default="")
    headers: models.JSONField[dict[str, str] | None, dict[str, str] | None] = models.JSONField(
        null=True,
        blank=True,
        help_text="The intent's headers (string keys and values, a trace context say), sent"
        " with the message.",
    )

    class Meta:
        """One table, ``airlock_outbox``; the relay finds due rows by status and time."""

        app_label = "airlock"
        db_table = "airlock_outbox"
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="airlock_outbox_due")]
        verbose_name = "outbox message"

    def __str__(self) -> str:
        return f"{self.task} [{dict(self.STATUSES)[self.status]}] {self.intent_id}"


class RelayHeartbeat(models.Model):
    """A relay that is running, or ran: ``manage.py check`` looks here for one.

    Each relay (``airlock_relay --loop``, or the periodic relay task) writes
    its row at most every ``HEARTBEAT_EVERY`` seconds, and deletes it when it
    stops cleanly. A row whose ``seen_at`` is older than ``stale_after`` seconds
    belongs to a relay that died.
    """

    name: models.CharField[str, str] = models.CharField(
        max_length=255, unique=True, help_text="host:pid of the relay, or the periodic task."
    )
    database: models.CharField[str, str] = models.CharField(
        max_length=255, help_text="The database alias whose outbox it relays."
    )
    seen_at: models.DateTimeField[datetime, datetime] = models.DateTimeField(
        help_text="Its last pass."
    )
    stale_after: models.FloatField[float, float] = models.FloatField(
        help_text="Seconds after seen_at when it counts as gone."
    )

    class Meta:
        """One table, ``airlock_relay``."""

        app_label = "airlock"
        db_table = "airlock_relay"
        verbose_name = "relay heartbeat"

    def __str__(self) -> str:
        return f"relay {self.name} on {self.database!r}, seen {self.seen_at.isoformat()}"
