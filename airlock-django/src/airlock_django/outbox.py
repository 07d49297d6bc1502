"""``OutboxScope``: effects are written in the application's transaction, so none is lost.

``DjangoScope`` (like ``transaction.on_commit`` and Celery's
``delay_on_commit``) holds effects in memory until the commit: a process that
dies, or a broker that is down, between the commit and the publish loses them.
``OutboxScope`` closes that window. At flush it writes each allowed intent as
an ``OutboxMessage`` row in the same transaction as the application's writes;
after the commit it publishes them at once (the fast path) and marks them
delivered. A row that is still pending ``RELAY_AFTER`` seconds later is
published by ``manage.py airlock_relay``. A rolled-back transaction leaves no
row. Delivery is at least once; each row's ``intent_id`` travels as the
message id (Celery task id, RQ job id, Dramatiq message id) of executors that
declare ``message_id_option``, so a duplicate is recognisable.
"""

from __future__ import annotations

import json
import logging
import math
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from django.db import DatabaseError, connections, transaction
from django.db.models import F
from django.utils import timezone

from airlock import DispatchError, Intent, Scope, UsageError
from airlock.plugins import dispatch
from airlock_django.conf import OutboxSettings, outbox_settings
from airlock_django.references import executor_name_of, find_task, task_name_of
from airlock_django.scopes import DjangoScope, _CommitMarker, _marker_of, _report_rolled_back

if TYPE_CHECKING:
    from airlock_django.models import OutboxMessage

logger = logging.getLogger("airlock_django.outbox")

#: Rows per UPDATE when marking many rows at once (SQLite caps query parameters).
CHUNK = 500


class OutboxScope(DjangoScope):
    """A ``DjangoScope`` that stores its effects in the database before they escape.

    Registered as the scope ``outbox``: ``AIRLOCK = {"SCOPE": "outbox"}``
    makes it the default, ``airlock.scope(_cls="outbox")`` opens one. Task
    arguments, keyword arguments and dispatch options must be JSON (options may
    also hold ``datetime`` and ``timedelta`` values); anything else fails the
    flush with ``DispatchError`` before a row is written, as does a task the
    relay could not find by name. A failed publish is not raised: the row
    stays pending and the relay retries it.
    """

    __slots__ = ("_executor_given",)

    def __init__(
        self,
        *,
        policy: object = None,
        executor: object = None,
        on_dispatch_error: Literal["stop", "continue"] = "stop",
        using: str | None = None,
    ) -> None:
        super().__init__(
            policy=policy, executor=executor, on_dispatch_error=on_dispatch_error, using=using
        )
        self._executor_given = executor

    def before_descendant_flushes(
        self, exiting_scope: Scope, intents: list[Intent]
    ) -> list[Intent]:
        """Let a nested outbox scope that closes inside a transaction store its effects there.

        Its intents are screened by this scope's policy first (``on_enqueue``,
        then ``allows``); those it allows are stored in the nested scope's
        transaction, the rest are captured as usual. Any other nested scope is
        captured: its effects wait for this scope's flush.
        """
        if not isinstance(exiting_scope, OutboxScope):
            return []
        if not connections[exiting_scope.using].in_atomic_block:
            return []
        policy = self.policy
        for intent in intents:
            policy.on_enqueue(intent)
        return [intent for intent in intents if policy.allows(intent)]

    def dispatch_all(self, intents: list[Intent]) -> None:
        """Write the rows now (in the open transaction); publish them after the commit."""
        connection = connections[self.using]
        if not connection.in_atomic_block:
            self._refuse_manual_transaction(intents)
        kept = self._drop_rolled_back(intents)
        if any(_committed_before(intent) for intent in kept):
            _warn_late_flush(self)
        if not kept:
            return
        settings = outbox_settings()
        executor = self.executor
        try:
            executor_name = executor_name_of(executor, self._executor_given)
        except UsageError as exc:
            raise DispatchError([], [(intent, exc) for intent in kept], []) from exc
        rows, stored = encode(kept, executor_name, settings)
        publish_later = partial(deliver_fast, stored, executor, self.using, settings)
        from airlock_django.models import OutboxMessage  # the app registry is ready by now

        try:
            with transaction.atomic(using=self.using, savepoint=False):
                OutboxMessage.objects.using(self.using).bulk_create(rows)
        except DatabaseError as exc:
            raise DispatchError([], [(intent, exc) for intent in kept], []) from exc
        if connection.in_atomic_block:
            transaction.on_commit(publish_later, using=self.using, robust=True)
        else:
            publish_later()

    def _drop_rolled_back(self, intents: list[Intent]) -> list[Intent]:
        """The intents whose transaction committed or is still open; report the rest."""
        kept: list[Intent] = []
        rolled_back: list[Intent] = []
        registered: dict[str, set[int]] = {}
        for intent in intents:
            marker = _marker_of(intent)
            if marker is None or marker.fired or _still_registered(marker, registered):
                kept.append(intent)
            else:
                rolled_back.append(intent)
        if rolled_back:
            _report_rolled_back(self, rolled_back)
        return kept


def _committed_before(intent: Intent) -> bool:
    marker = _marker_of(intent)
    return marker is not None and marker.fired


_warned_late: list[bool] = []


def _warn_late_flush(scope: OutboxScope) -> None:
    """Once per process: effects stored after their transaction committed were exposed."""
    if _warned_late:
        return
    _warned_late.append(True)
    logger.warning(
        "airlock outbox: %r stored effects after the transaction that enqueued them had"
        " committed; a crash between that commit and this flush would have lost them."
        " Close the scope inside the transaction: `with transaction.atomic(),"
        " airlock.scope():` (or @transaction.atomic above @airlock.scoped()).",
        scope,
    )


def _still_registered(marker: _CommitMarker, registered: dict[str, set[int]]) -> bool:
    """Whether Django still holds ``marker`` for a commit, i.e. its savepoint did not roll back.

    Django drops the on-commit callbacks of a savepoint that rolls back; the
    list it keeps them in (``run_on_commit``) is the only place that tells.
    """
    connection = connections[marker.using]
    if not connection.in_atomic_block:
        return False
    if marker.using not in registered:
        registered[marker.using] = {id(entry[1]) for entry in connection.run_on_commit}
    return id(marker) in registered[marker.using]


# -- rows ---------------------------------------------------------------------


def encode(
    intents: Sequence[Intent], executor: str, settings: OutboxSettings
) -> tuple[list[OutboxMessage], list[tuple[uuid.UUID, Intent]]]:
    """Rows for ``intents``, and each intent as it will be published (from its JSON).

    Raises ``DispatchError`` listing every intent that cannot be stored (all
    others as pending) before anything is written.
    """
    from airlock_django.models import OutboxMessage

    now = timezone.now()
    due = now + timedelta(seconds=settings.relay_after)
    rows: list[OutboxMessage] = []
    stored: list[tuple[uuid.UUID, Intent]] = []
    failed: list[tuple[Intent, BaseException]] = []
    known: set[str] = set()  # names found once in this flush: the registries do not change
    for intent in intents:
        try:
            name = task_name_of(intent.task)
            if name not in known and find_task(name, settings.tasks) is None:
                raise UsageError(
                    f"the relay could not find the task {name!r}: it dispatches only Celery"
                    f" tasks and Dramatiq actors the application registered and the names in"
                    f' AIRLOCK["OUTBOX"]["TASKS"]. Add {name!r} there.'
                )
            args = to_json(intent.args, "args")
            kwargs = to_json(intent.kwargs, "kwargs")
            options = encode_options(intent.dispatch_options)
            payload = json.dumps({"args": args, "kwargs": kwargs, "options": options})
            known.add(name)
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
                enqueued_at=now,
                next_attempt_at=due,
            )
        )
        published = Intent(
            intent.task, tuple(args), kwargs, decode_options(options), origin=intent.origin
        )
        stored.append((intent_id, published))
    if failed:
        pending = [i for i in intents if all(i is not bad for bad, _ in failed)]
        raise DispatchError([], failed, pending)
    return rows, stored


def to_json(value: Any, path: str) -> Any:
    """``value`` as plain JSON data; ``TypeError`` naming the first part that is not."""
    if value is None or type(value) in (str, int, bool):
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{path} is {value!r}, which JSON cannot represent.")
        return float(value)
    if isinstance(value, (list, tuple)):
        return [to_json(item, f"{path}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path} has the key {key!r}; JSON object keys are strings.")
            out[str.__str__(key)] = to_json(item, f"{path}[{key!r}]")
        return out
    raise TypeError(
        f"{path} is {type(value).__name__} {value!r}; the outbox stores JSON only (str, int,"
        f" float, bool, None, lists and dicts). Pass something the relay can rebuild, such"
        f" as an id or an ISO date string."
    )


_TAG = "__airlock__"


def encode_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """Dispatch options as JSON; ``datetime`` and ``timedelta`` values become tagged objects."""
    if not options:
        return {}
    encoded: dict[str, Any] = {}
    for key, value in options.items():
        if isinstance(value, datetime):
            if timezone.is_naive(value):
                raise ValueError(
                    f"dispatch option {key!r} is the naive datetime {value!r}; give it a"
                    f" timezone so that the relay publishes the same moment."
                )
            encoded[key] = {_TAG: "datetime", "value": value.isoformat()}
        elif isinstance(value, timedelta):
            encoded[key] = {_TAG: "timedelta", "seconds": value.total_seconds()}
        else:
            encoded[key] = to_json(value, f"dispatch option {key!r}")
    return encoded


def decode_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The dispatch options ``encode_options`` stored, with their dates and durations back."""
    decoded: dict[str, Any] = {}
    for key, value in options.items():
        if isinstance(value, dict) and _TAG in value:
            if value[_TAG] == "datetime":
                decoded[key] = datetime.fromisoformat(value["value"])
            elif value[_TAG] == "timedelta":
                decoded[key] = timedelta(seconds=value["seconds"])
            else:
                raise ValueError(f"dispatch option {key!r} has an unknown tag {value[_TAG]!r}.")
        else:
            decoded[key] = value
    return decoded


# -- publishing -----------------------------------------------------------------


class Published(NamedTuple):
    """What one publish did with the rows it was given, by ``intent_id``."""

    delivered: list[uuid.UUID]
    failed: list[tuple[uuid.UUID, BaseException]]
    untried: list[uuid.UUID]


def publish(stored: Sequence[tuple[uuid.UUID, Intent]], executor: Any) -> Published:
    """Dispatch the stored intents in order, each id as the message id, up to the first failure.

    The rest are not tried: a broker that refused one message is most likely
    down, and every further attempt would wait out the client's own connection
    retries too (several seconds each with Celery's defaults), in the request
    on the fast path and holding row locks in the relay. An intent the executor
    left pending is reported untried.
    """
    option = getattr(executor, "message_id_option", None)
    by_intent: dict[int, uuid.UUID] = {}
    intents: list[Intent] = []
    for intent_id, intent in stored:
        if option and option not in (intent.dispatch_options or {}):
            intent = Intent(
                intent.task,
                intent.args,
                intent.kwargs,
                {**(intent.dispatch_options or {}), option: str(intent_id)},
                origin=intent.origin,
            )
        by_intent[id(intent)] = intent_id
        intents.append(intent)
    try:
        dispatch(intents, executor, keep_going=False)
    except DispatchError as exc:
        return Published(
            [by_intent[id(i)] for i in exc.dispatched],
            [(by_intent[id(i)], error) for i, error in exc.failed],
            [by_intent[id(i)] for i in exc.pending],
        )
    return Published([by_intent[id(i)] for i in intents], [], [])


def record(
    using: str,
    delivered: Sequence[uuid.UUID],
    failed: Sequence[tuple[uuid.UUID, int, BaseException]],
    settings: OutboxSettings,
    *,
    untried: Sequence[uuid.UUID] = (),
    untried_reason: str = "",
) -> int:
    """Mark rows delivered, or count a failed attempt (dead after the last); return the dead.

    ``failed`` holds ``(intent_id, attempts before this one, error)``. Rows in
    ``untried`` cost no attempt: they become due when a first failed attempt
    would be retried, their ``last_error`` giving ``untried_reason``. Only
    pending rows change: a row the relay delivered meanwhile stays delivered.
    """
    from airlock_django.models import OutboxMessage

    now = timezone.now()
    rows = OutboxMessage.objects.using(using).filter(status=OutboxMessage.PENDING)
    for start in range(0, len(delivered), CHUNK):
        rows.filter(intent_id__in=delivered[start : start + CHUNK]).update(
            status=OutboxMessage.DELIVERED, delivered_at=now, attempts=F("attempts") + 1
        )
    dead = 0
    for intent_id, attempts, error in failed:
        attempts += 1
        status = OutboxMessage.PENDING
        if attempts >= settings.max_attempts:
            status = OutboxMessage.DEAD
            dead += 1
        rows.filter(intent_id=intent_id).update(
            status=status,
            attempts=attempts,
            last_error=_describe(error),
            next_attempt_at=now + timedelta(seconds=settings.backoff(attempts)),
        )
    retry_at = now + timedelta(seconds=settings.backoff(1))
    for start in range(0, len(untried), CHUNK):
        rows.filter(intent_id__in=untried[start : start + CHUNK]).update(
            last_error=f"not tried: {untried_reason}", next_attempt_at=retry_at
        )
    return dead


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def deliver_fast(
    stored: Sequence[tuple[uuid.UUID, Intent]], executor: Any, using: str, settings: OutboxSettings
) -> None:
    """The fast path, right after the commit: publish, then mark the rows."""
    delivered, failed, untried = publish(stored, executor)
    first = _describe(failed[0][1]) if failed else "the executor left them pending"
    if failed or untried:
        logger.warning(
            "airlock outbox: %d of %d effect(s) were not published after the commit (%d failed,"
            " %d not tried after that); their rows stay pending and `manage.py airlock_relay`"
            " retries them. First error: %s",
            len(failed) + len(untried),
            len(stored),
            len(failed),
            len(untried),
            first,
        )
    record(
        using,
        delivered,
        [(intent_id, 0, error) for intent_id, error in failed],
        settings,
        untried=untried,
        untried_reason=f"the publish stopped at an earlier failure ({first})",
    )


__all__ = [
    "OutboxScope",
    "Published",
    "decode_options",
    "encode",
    "encode_options",
    "publish",
    "record",
]
