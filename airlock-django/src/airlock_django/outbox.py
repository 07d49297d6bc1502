"""``OutboxScope``: effects are written in the application's transaction, so none is lost.

``DjangoScope`` (like ``transaction.on_commit`` and Celery's
``delay_on_commit``) holds effects in memory until the commit: a process that
dies, or a broker that is down, between the commit and the publish loses them.
``OutboxScope`` closes that window. At flush it writes each allowed intent as
an ``OutboxMessage`` row in the same transaction as the application's writes;
after the commit it publishes them at once (the fast path) and marks them
delivered. A row that is still pending ``RELAY_AFTER`` seconds later is
published by ``manage.py airlock_relay``. With ``AIRLOCK["OUTBOX"]["FAST_PATH"]
= False`` the flush only writes the rows (and, on PostgreSQL, a ``NOTIFY``
that wakes the relay at the commit): the relay publishes every one. A
rolled-back transaction leaves no row. Delivery is at least once; each row's
``intent_id`` travels as the message id (Celery task id, RQ job id, Dramatiq
message id) of executors that declare ``message_id_option``, so a duplicate is
recognisable.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Literal

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections, transaction

from airlock import DispatchError, Intent, Scope, UsageError
from airlock_django.conf import MisconfiguredExecutor, outbox_settings
from airlock_django.delivery import deliver_fast
from airlock_django.references import executor_name_of
from airlock_django.scopes import DjangoScope, _CommitMarker, _marker_of, _report_rolled_back
from airlock_django.store import prepare, write
from airlock_django.wakeup import can_notify, notify

logger = logging.getLogger("airlock_django.outbox")


class OutboxScope(DjangoScope):
    """A ``DjangoScope`` that stores its effects in the database before they escape.

    Registered as the scope ``outbox``: ``AIRLOCK = {"SCOPE": "outbox"}``
    makes it the default, ``airlock.scope(_cls="outbox")`` opens one. Task
    arguments, keyword arguments and dispatch options must be JSON (options may
    also hold ``datetime`` and ``timedelta`` values); anything else fails the
    flush with ``DispatchError`` before a row is written, as does a task the
    relay could not find by name, or settings that are invalid (``manage.py
    check`` names them): the transaction the flush runs in then rolls back
    instead of committing without its rows. A failed publish is not raised: the row
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
        executor = self.executor
        try:
            settings = outbox_settings()
            if isinstance(executor, MisconfiguredExecutor):
                raise executor.refusal(
                    "and the outbox stores no effect while it is: the transaction must roll back"
                    " rather than commit without them"
                )
        except ImproperlyConfigured as exc:
            raise DispatchError([], [(intent, exc) for intent in kept], []) from exc
        try:
            executor_name = executor_name_of(executor, self._executor_given)
        except UsageError as exc:
            raise DispatchError([], [(intent, exc) for intent in kept], []) from exc
        rows, stored = prepare(kept, executor_name, settings)
        try:
            write(self.using, rows)
            if not settings.fast_path and can_notify(self.using):
                notify(self.using)
        except DatabaseError as exc:
            raise DispatchError([], [(intent, exc) for intent in kept], []) from exc
        if not settings.fast_path:
            return
        publish_later = partial(deliver_fast, stored, executor, self.using, settings)
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


__all__ = ["OutboxScope"]
