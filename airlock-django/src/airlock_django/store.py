"""The row store of the outbox: rows written for intents, and the outcome of each publish.

``prepare`` turns intents into ``OutboxMessage`` rows (through the codec) and
``write`` inserts them in the open transaction; ``record`` marks what a
publish did with them. Only pending rows ever change: a row another relay
delivered meanwhile stays delivered.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db import connections, transaction
from django.db.models import (
    Case,
    DateTimeField,
    Expression,
    F,
    Field,
    PositiveIntegerField,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Least
from django.utils import timezone

from airlock import DispatchError, Intent, UsageError
from airlock_django.codec import decode_options, encode_headers, encode_payload
from airlock_django.conf import OutboxSettings
from airlock_django.references import task_name_of

if TYPE_CHECKING:
    from airlock_django.models import OutboxMessage

#: Rows per UPDATE when marking many rows at once (SQLite caps query parameters).
CHUNK = 500
#: The largest attempt count stored (the column's range on PostgreSQL and MySQL); a row
#: written with it cannot make the count overflow.
MAX_ATTEMPTS_COUNTED = 2**31 - 1


def prepare(
    intents: Sequence[Intent], executor: str, settings: OutboxSettings
) -> tuple[list[OutboxMessage], list[tuple[uuid.UUID, Intent]]]:
    """Rows for ``intents``, and each intent as it will be published (from its JSON).

    Raises ``DispatchError`` listing every intent that cannot be stored (all
    others as pending) before anything is written.
    """
    from airlock_django.models import OutboxMessage

    now = timezone.now()
    # Without the fast path nobody else publishes them: due at once, for the relay.
    due = now + timedelta(seconds=settings.relay_after) if settings.fast_path else now
    rows: list[OutboxMessage] = []
    stored: list[tuple[uuid.UUID, Intent]] = []
    failed: list[tuple[Intent, BaseException]] = []
    found: set[str] = set()  # task names the relay can find, looked up once per flush
    for intent in intents:
        try:
            name = task_name_of(intent.task, settings.tasks, found)
            payload, args, kwargs, options = encode_payload(
                intent.args, intent.kwargs, intent.dispatch_options
            )
            headers = encode_headers(intent.headers)
        except (UsageError, TypeError, ValueError) as exc:
            failed.append((intent, exc))
            continue
        intent_id = uuid.uuid4()
        rows.append(
            OutboxMessage(
                intent_id=intent_id,
                task=name,
                executor=executor,
                payload=payload,
                headers=headers,
                enqueued_at=now,
                next_attempt_at=due,
            )
        )
        published = Intent(
            intent.task,
            tuple(args),
            kwargs,
            decode_options(options),
            origin=intent.origin,
            headers=headers,
        )
        stored.append((intent_id, published))
    if failed:
        pending = [i for i in intents if all(i is not bad for bad, _ in failed)]
        raise DispatchError([], failed, pending)
    return rows, stored


def write(using: str, rows: Sequence[OutboxMessage]) -> None:
    """Insert ``rows`` in one statement, in the transaction open on ``using`` (if any)."""
    from airlock_django.models import OutboxMessage

    with transaction.atomic(using=using, savepoint=False):
        OutboxMessage.objects.using(using).bulk_create(rows)


def record(
    using: str,
    delivered: Sequence[uuid.UUID],
    failed: Sequence[tuple[uuid.UUID, int, BaseException]],
    settings: OutboxSettings,
    *,
    refused: Sequence[tuple[uuid.UUID, int, BaseException]] = (),
    untried: Sequence[uuid.UUID] = (),
    untried_reason: str = "",
) -> int:
    """Mark rows delivered, or count a failed attempt (dead after the last); return the dead.

    ``failed`` and ``refused`` hold ``(intent_id, attempts before this one,
    error)``: a failed row is retried after a backoff (a failure whose delivery
    is uncertain too: the relay cannot tell, and the id makes a second copy
    recognisable), a refused one (a permanent failure) is dead at once. Rows in
    ``untried`` cost no attempt: they become due when a first failed attempt
    would be retried, their ``last_error`` giving ``untried_reason``. Only
    pending rows change: a row the relay delivered meanwhile stays delivered.

    One UPDATE per outcome (delivered, retry, dead, untried), however many rows
    each holds (up to ``CHUNK``): values that differ from row to row (attempt
    counts, errors, retry times) are ``CASE`` expressions on the row's id,
    never on a column another assignment changes (MySQL evaluates its
    assignments in order).
    """
    from airlock_django.models import OutboxMessage

    now = timezone.now()
    rows = OutboxMessage.objects.using(using).filter(status=OutboxMessage.PENDING)
    for start in range(0, len(delivered), CHUNK):
        rows.filter(intent_id__in=delivered[start : start + CHUNK]).update(
            status=OutboxMessage.DELIVERED,
            delivered_at=now,
            attempts=Least(F("attempts"), MAX_ATTEMPTS_COUNTED - 1) + 1,
        )
    retry: list[tuple[uuid.UUID, int, str]] = []
    dead: list[tuple[uuid.UUID, int, str]] = []
    for intent_id, attempts, error in failed:
        attempts = min(attempts, MAX_ATTEMPTS_COUNTED - 1) + 1
        to = dead if attempts >= settings.max_attempts else retry
        to.append((intent_id, attempts, describe(error)))
    for intent_id, attempts, error in refused:
        attempts = min(attempts, MAX_ATTEMPTS_COUNTED - 1) + 1
        dead.append((intent_id, attempts, f"permanent failure, not retried: {describe(error)}"))
    for start in range(0, len(retry), CHUNK):
        chunk = retry[start : start + CHUNK]
        rows.filter(intent_id__in=[i for i, _, _ in chunk]).update(
            attempts=_per_row([(i, n) for i, n, _ in chunk], PositiveIntegerField()),
            last_error=_per_row([(i, e) for i, _, e in chunk], TextField()),
            next_attempt_at=_per_row(
                [(i, now + timedelta(seconds=settings.backoff(n))) for i, n, _ in chunk],
                DateTimeField(),
            ),
        )
    for start in range(0, len(dead), CHUNK):
        chunk = dead[start : start + CHUNK]
        rows.filter(intent_id__in=[i for i, _, _ in chunk]).update(
            status=OutboxMessage.DEAD,
            attempts=_per_row([(i, n) for i, n, _ in chunk], PositiveIntegerField()),
            last_error=_per_row([(i, e) for i, _, e in chunk], TextField()),
        )
    retry_at = now + timedelta(seconds=settings.backoff(1))
    for start in range(0, len(untried), CHUNK):
        rows.filter(intent_id__in=untried[start : start + CHUNK]).update(
            last_error=f"not tried: {untried_reason}", next_attempt_at=retry_at
        )
    return len(dead)


def _per_row(values: Sequence[tuple[uuid.UUID, Any]], field: Field[Any, Any]) -> Expression:
    """The value of each row, by intent id: a constant when all rows take the same one."""
    groups: dict[Any, list[uuid.UUID]] = {}
    for intent_id, value in values:
        groups.setdefault(value, []).append(intent_id)
    if len(groups) == 1:
        return Value(next(iter(groups)), output_field=field)
    return Case(
        *(When(intent_id__in=ids, then=Value(value)) for value, ids in groups.items()),
        output_field=field,
    )


def without_waiting_for_disk(using: str) -> None:
    """Let the transaction open on ``using`` commit before its WAL reaches the disk.

    PostgreSQL only (``SET LOCAL synchronous_commit TO OFF``, this transaction
    alone): its COMMIT returns at once, and the server writes the WAL within
    ``wal_writer_delay`` (200 ms by default). A crash of the database server in
    that window loses the transaction; one of the application process does
    not. For marking rows delivered that is safe: a lost mark leaves the row
    pending, and the relay publishes it again under the same id (at least
    once, as always). Nothing is done on other databases.
    """
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def reject(using: str, ids: Sequence[int], reason: str) -> None:
    """Set rows aside as ``rejected``: the relay will never publish them."""
    from airlock_django.models import OutboxMessage

    OutboxMessage.objects.using(using).filter(pk__in=ids).update(
        status=OutboxMessage.REJECTED, last_error=f"rejected: {_cut(reason)}"
    )


def describe(error: BaseException) -> str:
    """An error as a row's ``last_error`` shows it: type and message, cut at 1,000 characters."""
    try:
        message = str(error)
    except Exception:  # an error that cannot describe itself still gets a row's last_error
        message = "(its message could not be read)"
    return _cut(f"{type(error).__name__}: {message}")


def _cut(text: str) -> str:
    """``text``, cut at 1,000 characters: a ``last_error`` stays readable, and bounded."""
    return text if len(text) <= 1000 else f"{text[:1000]}... ({len(text):,} characters)"


__all__ = [
    "CHUNK",
    "describe",
    "prepare",
    "record",
    "reject",
    "without_waiting_for_disk",
    "write",
]
