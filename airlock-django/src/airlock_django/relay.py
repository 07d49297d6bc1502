"""The relay: publishes outbox rows the fast path did not deliver (crash, broker down).

Several relays may run at once on a database with ``SELECT ... FOR UPDATE
SKIP LOCKED`` (PostgreSQL, MariaDB >= 10.6, MySQL >= 8.0.1, Oracle; on an
older MariaDB or MySQL the relay refuses to run): each claims a batch of due rows
inside a transaction, publishes them while holding their locks, and records
the outcome before it commits, so no two relays publish the same row. On
SQLite, run one relay.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import nullcontext, suppress
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, InterfaceError, OperationalError, connections, transaction
from django.db.models import Case, Count, F, Min, QuerySet, TextField, When
from django.db.models.functions import Length
from django.utils import timezone

from airlock import Intent
from airlock_django.codec import (
    MAX_PAYLOAD_CHARS,
    UnreadableRow,
    decode_headers,
    decode_payload,
)
from airlock_django.conf import OutboxSettings, outbox_settings
from airlock_django.delivery import publish
from airlock_django.models import OutboxMessage, RelayHeartbeat
from airlock_django.references import find_executor, find_task
from airlock_django.store import CHUNK, describe, record, reject
from airlock_django.wakeup import Listener, can_notify

logger = logging.getLogger("airlock_django.relay")


@dataclass
class Tally:
    """What one batch, or a whole run, did with the rows it claimed."""

    claimed: int = 0
    delivered: int = 0
    failed: int = 0
    untried: int = 0
    dead: int = 0
    rejected: int = 0
    batches: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        """Fold ``other`` into this tally."""
        self.claimed += other.claimed
        self.delivered += other.delivered
        self.failed += other.failed
        self.untried += other.untried
        self.dead += other.dead
        self.rejected += other.rejected
        self.batches += other.batches
        self.seconds += other.seconds
        self.errors = (self.errors + other.errors)[-10:]

    def describe(self) -> str:
        """One line: counts and rate."""
        rate = self.delivered / self.seconds if self.seconds else 0.0
        return (
            f"{self.claimed} claimed, {self.delivered} delivered, {self.failed} failed"
            f" (will retry), {self.untried} not tried, {self.dead} dead, {self.rejected} rejected"
            f" in {self.seconds:.2f}s ({rate:,.0f} rows/s)"
        )


class Relay:
    """Claims due pending rows of one database in batches and publishes them."""

    def __init__(
        self,
        *,
        using: str = "default",
        batch_size: int = 100,
        settings: OutboxSettings | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
        connections[using]  # an unknown alias fails here, with Django's message
        self.using = using
        self.batch_size = batch_size
        self.settings = settings if settings is not None else outbox_settings()

    def relay_batch(self) -> Tally:
        """Claim up to ``batch_size`` due rows, publish them, record the outcome."""
        started = time.perf_counter()
        tally = Tally(batches=1)
        skip_locked = connections[self.using].features.has_select_for_update_skip_locked
        if not skip_locked and connections[self.using].vendor == "mysql":
            raise ImproperlyConfigured(unlocked_mysql(self.using))
        # With row locks, claim, publish and record are one transaction holding the locks.
        # Without (SQLite, one relay), a transaction would hold SQLite's read lock while the
        # workers consuming these very messages write to the same file, and the relay's
        # UPDATE would then fail with "database is locked".
        with transaction.atomic(using=self.using) if skip_locked else nullcontext():
            due = OutboxMessage.objects.using(self.using).filter(
                status=OutboxMessage.PENDING, next_attempt_at__lte=timezone.now()
            )
            if skip_locked:
                due = due.select_for_update(skip_locked=True)
            rows, unreadable = self._claim(due)
            tally.claimed = len(rows) + len(unreadable)
            if unreadable:
                self._reject(unreadable, "a column holds a value of the wrong type", tally)
            by_executor: dict[str, list[OutboxMessage]] = {}
            for row in rows:
                by_executor.setdefault(row.executor, []).append(row)
            for name, group in by_executor.items():
                self._publish_group(name, group, tally)
        tally.seconds = time.perf_counter() - started
        return tally

    def _claim(self, due: QuerySet[OutboxMessage]) -> tuple[list[OutboxMessage], list[int]]:
        """The next batch of due rows, and the ids of those Django cannot read.

        A payload longer than a row may hold is not even fetched (the relay
        never allocates for it). A column of the wrong type can only come from
        a database that does not enforce column types (SQLite): then the rows
        are read one by one, and those that cannot be read are set aside.
        """
        # most overdue first: with the broker down, retries go round every waiting row
        ordered = (
            due.order_by("next_attempt_at", "id")
            .defer("payload")
            .annotate(payload_chars=Length("payload"))
            .annotate(
                bounded_payload=Case(
                    When(payload_chars__lte=MAX_PAYLOAD_CHARS, then=F("payload")),
                    default=None,
                    output_field=TextField(),
                )
            )
        )
        try:
            return list(ordered[: self.batch_size]), []
        except (ValueError, TypeError, AttributeError):
            ids = list(due.order_by("next_attempt_at", "id").values_list("pk", flat=True))
        rows: list[OutboxMessage] = []
        unreadable: list[int] = []
        for pk in ids[: self.batch_size]:
            try:
                rows += list(ordered.filter(pk=pk))
            except (ValueError, TypeError, AttributeError):
                unreadable.append(pk)
        return rows, unreadable

    def _publish_group(self, name: str, rows: list[OutboxMessage], tally: Tally) -> None:
        executor = find_executor(name)
        if executor is None:
            self._reject(
                [row.pk for row in rows],
                f"the executor {_short(name)} is neither registered nor configured",
                tally,
            )
            return
        stored: list[tuple[uuid.UUID, Intent]] = []
        attempts: dict[uuid.UUID, int] = {}
        tasks: dict[str, Any] = {}  # the registries do not change during a batch
        for row in rows:
            if row.task not in tasks:
                tasks[row.task] = find_task(row.task, self.settings.tasks)
            task = tasks[row.task]
            if task is None:
                self._reject(
                    [row.pk],
                    f"the task {_short(row.task)} is not registered with Celery or Dramatiq nor"
                    f' listed in AIRLOCK["OUTBOX"]["TASKS"]',
                    tally,
                )
                continue
            try:
                args, kwargs, options = decode_payload(_payload_of(row))
                headers = decode_headers(row.headers)
                if isinstance(row.attempts, bool) or not isinstance(row.attempts, int):
                    raise UnreadableRow(f"attempts is {_short(row.attempts)}, not a number")
            except UnreadableRow as exc:
                self._reject([row.pk], f"unreadable row: {exc}", tally)
                continue
            stored.append((row.intent_id, Intent(task, args, kwargs, options, headers=headers)))
            attempts[row.intent_id] = row.attempts
        if not stored:
            return
        published = publish(stored, executor)
        failed = [(i, attempts[i], error) for i, error in published.failed]
        refused = [(i, attempts[i], error) for i, error in published.refused]
        dead = record(self.using, published.delivered, failed, self.settings, refused=refused)
        tally.delivered += len(published.delivered)
        tally.failed += len(failed) + len(refused) - dead
        tally.untried += len(published.untried)
        tally.dead += dead
        tally.errors += [describe(e) for _, e in (published.refused + published.failed)[:3]]

    def _reject(self, ids: list[int], reason: str, tally: Tally) -> None:
        reject(self.using, ids, reason)
        tally.rejected += len(ids)
        tally.errors.append(f"rejected: {reason}")

    def drain(
        self,
        on_batch: Callable[[Tally], None] | None = None,
        stop: threading.Event | None = None,
    ) -> Tally:
        """Relay batches until no row is due or ``stop`` is set; return the totals.

        A batch stops at its first failure (see ``publish``) and the rows after
        it stay due, for the next batch. A batch that delivered nothing ends the
        drain: the broker is most likely down, and the next pass tries again.
        """
        total = Tally()
        while stop is None or not stop.is_set():
            tally = self.relay_batch()
            if not tally.claimed:
                return total
            total.add(tally)
            if on_batch is not None:
                on_batch(tally)
            if tally.delivered == 0 and tally.rejected == 0 and tally.dead == 0:
                return total
        return total

    def loop(
        self,
        *,
        interval: float,
        stop: threading.Event,
        on_batch: Callable[[Tally], None] | None = None,
        between_passes: Callable[[], None] | None = None,
        listen: bool = True,
    ) -> Tally:
        """Drain, wait ``interval`` seconds, drain again, until ``stop`` is set.

        With ``listen`` on PostgreSQL, the wait ends early when a transaction
        that wrote rows commits (``NOTIFY``, see ``airlock_django.wakeup``);
        ``interval`` is then only the poll that catches a lost notification.
        Each pass writes the relay's heartbeat (at most every
        ``HEARTBEAT_EVERY`` seconds), which ``manage.py check`` looks for; a
        clean stop deletes it.

        ``stop`` is checked between batches: the batch in hand is finished and
        recorded first. When the database connection is lost (a restart, a
        failover, ``pg_terminate_backend``), the batch in hand rolls back with
        it (its rows stay pending, for the next claim) and the loop reconnects,
        waiting ``RECONNECT_FIRST`` seconds, then twice as long after each
        failed attempt up to ``RECONNECT_MAX``. Each outage logs one WARNING
        when it starts and one INFO line when it ends; the tracebacks go to
        DEBUG.
        """
        total = Tally()
        outage = Outage(self.using)

        def counted(tally: Tally) -> None:  # batches of a pass that loses the database count too
            outage.over()  # a batch went through: the database is back
            total.add(tally)
            if on_batch is not None:
                on_batch(tally)

        listener = Listener(self.using) if listen and can_notify(self.using) else None
        heartbeat = Heartbeat(self.using, stale_after=2 * interval + 3 * HEARTBEAT_EVERY)
        try:
            while not stop.is_set():
                try:
                    if between_passes is not None:
                        between_passes()
                    heartbeat.beat()
                    self.drain(counted, stop)
                except (OperationalError, InterfaceError) as exc:
                    with suppress(DatabaseError):  # the connection is broken: forget it
                        connections[self.using].close()
                    stop.wait(outage.failed(exc))
                    continue
                outage.over()
                if listener is None:
                    stop.wait(interval)
                else:
                    _wait_for_notification(listener, interval, stop)
        finally:
            if listener is not None:
                listener.close()
            heartbeat.stop()
        return total

    def prune(self, older_than: timedelta) -> int:
        """Delete rows delivered more than ``older_than`` ago; return how many."""
        cutoff = timezone.now() - older_than
        old = OutboxMessage.objects.using(self.using).filter(
            status=OutboxMessage.DELIVERED, delivered_at__lt=cutoff
        )
        deleted = 0
        while True:
            ids = list(old.values_list("pk", flat=True)[:CHUNK])
            if not ids:
                return deleted
            deleted += OutboxMessage.objects.using(self.using).filter(pk__in=ids).delete()[0]

    def retry_dead(self) -> int:
        """Make dead and rejected rows pending again, due now; return how many."""
        revived: int = (
            OutboxMessage.objects.using(self.using)
            .filter(status__in=[OutboxMessage.DEAD, OutboxMessage.REJECTED])
            .update(status=OutboxMessage.PENDING, attempts=0, next_attempt_at=timezone.now())
        )
        return revived

    def stats(self) -> dict[str, Any]:
        """Rows per status, and how overdue the oldest due pending row is (seconds)."""
        rows = OutboxMessage.objects.using(self.using)
        counts = {label: 0 for _, label in OutboxMessage.STATUSES}
        labels = dict(OutboxMessage.STATUSES)
        for entry in rows.values("status").annotate(n=Count("id")).order_by():
            counts[labels[entry["status"]]] = entry["n"]
        oldest = rows.filter(status=OutboxMessage.PENDING).aggregate(due=Min("next_attempt_at"))
        overdue = 0.0
        if oldest["due"] is not None:
            overdue = max((timezone.now() - oldest["due"]).total_seconds(), 0.0)
        return {**counts, "oldest_overdue_seconds": round(overdue, 3)}


#: Seconds before the first reconnection attempt after the database connection is lost.
RECONNECT_FIRST = 0.5
#: The longest wait between two reconnection attempts.
RECONNECT_MAX = 30.0


class Outage:
    """The relay's view of one loss of the database: when it began, how long to wait next."""

    def __init__(self, using: str) -> None:
        self.using = using
        self.began: float | None = None
        self.attempts = 0
        self.delay = RECONNECT_FIRST

    def failed(self, error: BaseException) -> float:
        """Note a failed pass; return the seconds to wait before the next attempt."""
        if self.began is None:
            self.began = time.monotonic()
            self.attempts = 0
            self.delay = RECONNECT_FIRST
            logger.warning(
                "airlock relay: lost the connection to database %r (%s); reconnecting, first"
                " after %gs, then backing off up to every %gs. Rows of the batch in hand"
                " stay pending.",
                self.using,
                " ".join(describe(error).split()),
                RECONNECT_FIRST,
                RECONNECT_MAX,
            )
        else:
            self.delay = min(self.delay * 2, RECONNECT_MAX)
        self.attempts += 1
        logger.debug("airlock relay: database pass failed", exc_info=error)
        return self.delay

    def over(self) -> None:
        """A pass went through: end the outage, if there was one."""
        if self.began is not None:
            logger.info(
                "airlock relay: database %r is back after %.1fs (%d failed pass(es)).",
                self.using,
                time.monotonic() - self.began,
                self.attempts,
            )
            self.began = None


#: Seconds between two heartbeats of a relay.
HEARTBEAT_EVERY = 10.0
#: The longest a wait for a notification goes without looking at ``stop``.
STOP_CHECK = 0.2


class Heartbeat:
    """A relay's row in ``airlock_relay``: written every ``HEARTBEAT_EVERY`` seconds."""

    def __init__(self, using: str, *, stale_after: float, name: str | None = None) -> None:
        self.using = using
        self.name = name if name is not None else f"{socket.gethostname()}:{os.getpid()}"
        self.stale_after = stale_after
        self._last: float | None = None

    def beat(self) -> None:
        """Write the row, unless it was written less than ``HEARTBEAT_EVERY`` seconds ago."""
        now = time.monotonic()
        if self._last is not None and now - self._last < HEARTBEAT_EVERY:
            return
        RelayHeartbeat.objects.using(self.using).update_or_create(
            name=self.name,
            defaults={
                "database": self.using,
                "seen_at": timezone.now(),
                "stale_after": self.stale_after,
            },
        )
        self._last = now

    def stop(self) -> None:
        """Delete the row (a clean stop); a database that is gone leaves it to go stale."""
        with suppress(DatabaseError):
            RelayHeartbeat.objects.using(self.using).filter(name=self.name).delete()


def unlocked_mysql(using: str) -> str:
    """Why the relay refuses a MySQL or MariaDB server without ``SKIP LOCKED``."""
    connection = connections[using]
    server = getattr(connection, "mysql_server_info", "an unknown version")
    return (
        f"the relay needs SELECT ... FOR UPDATE SKIP LOCKED, which database {using!r}"
        f" ({server}) does not have: upgrade to MariaDB >= 10.6 or MySQL >= 8.0.1."
        f" Without it two relays could publish the same rows, and one relay would hold"
        f" its whole batch locked against the application."
    )


def relays_seen(using: str) -> list[RelayHeartbeat]:
    """The relays of ``using`` whose heartbeat is fresh."""
    now = timezone.now()
    return [
        beat
        for beat in RelayHeartbeat.objects.using(using).filter(database=using)
        if (now - beat.seen_at).total_seconds() <= beat.stale_after
    ]


def _wait_for_notification(listener: Listener, interval: float, stop: threading.Event) -> None:
    """Wait until a notification, ``interval`` seconds, or ``stop``, whichever comes first."""
    deadline = time.monotonic() + interval
    while not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0 or listener.wait(min(left, STOP_CHECK)):
            return


def _payload_of(row: OutboxMessage) -> object:
    """The payload ``_claim`` fetched, or why it did not."""
    payload: object = getattr(row, "bounded_payload", None)
    if payload is None:
        chars = getattr(row, "payload_chars", None)
        if chars is None:
            raise UnreadableRow("the payload is empty (NULL)")
        raise UnreadableRow(
            f"the payload is {chars:,} characters long; a row holds at most {MAX_PAYLOAD_CHARS:,}"
        )
    return payload


def _short(name: object) -> str:
    """A name from a row, for a message: quoted, and cut if it is long."""
    text = repr(name)
    return text if len(text) <= 120 else f"{text[:100]}... ({len(text):,} characters)"


__all__ = ["HEARTBEAT_EVERY", "Heartbeat", "Relay", "Tally", "relays_seen", "unlocked_mysql"]
