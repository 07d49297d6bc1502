"""``DjangoScope``: effects wait for the database transaction they belong to.

Two rules make a rolled-back transaction's effects stay in:

* When an intent is enqueued inside ``transaction.atomic()``, a marker is
  registered with ``transaction.on_commit`` at that very point. Django drops
  the marker if that atomic block (or savepoint) rolls back and fires it when
  the transaction commits, so the marker knows whether the intent's
  transaction committed, exactly as Django's own ``on_commit`` would.
* When the scope flushes inside a transaction, the dispatch itself is
  registered with ``transaction.on_commit``; outside one it happens at once.
  Either way only intents whose marker fired (or that were enqueued outside
  any transaction) go out; the others are reported as discarded.
"""

from __future__ import annotations

import contextlib
import logging
from functools import partial
from typing import Literal

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils.connection import ConnectionDoesNotExist

from airlock import DispatchError, Intent, Scope, UsageError

logger = logging.getLogger("airlock_django")


class _CommitMarker:
    """Registered with ``on_commit`` at enqueue time; fires if that transaction commits."""

    __slots__ = ("fired", "using")

    def __init__(self, using: str) -> None:
        self.using = using
        self.fired = False

    def __call__(self) -> None:
        self.fired = True


class DjangoScope(Scope):
    """A scope whose effects escape only after the database transaction commits.

    ``using`` names the database alias whose transactions it follows
    (``"default"`` unless given). Inside ``transaction.atomic()`` the flush is
    deferred to ``transaction.on_commit`` (registered with ``robust=True``, so
    a failing dispatch is logged and reported through the
    ``airlock_dispatch_failed`` hook and never stops the other on-commit
    callbacks); outside a transaction the effects go when the block ends, and
    a failing executor raises ``DispatchError`` there, as with any scope.
    Intents enqueued inside an atomic block or savepoint that rolls back are
    never dispatched, even when the rollback happened inside the scope.
    """

    __slots__ = ("_markers", "using")

    def __init__(
        self,
        *,
        policy: object = None,
        executor: object = None,
        on_dispatch_error: Literal["stop", "continue"] = "stop",
        using: str | None = None,
    ) -> None:
        alias = DEFAULT_DB_ALIAS if using is None else using
        if not isinstance(alias, str):
            raise UsageError(f"DjangoScope(using=...) takes a database alias, got {using!r}.")
        try:
            connections[alias]
        except ConnectionDoesNotExist:
            raise UsageError(
                f"DjangoScope(using={alias!r}): there is no such database in"
                f" settings.DATABASES (configured: {', '.join(connections) or 'none'})."
            ) from None
        super().__init__(policy=policy, executor=executor, on_dispatch_error=on_dispatch_error)
        self.using = alias
        self._markers: dict[int, _CommitMarker] | None = None

    # -- enqueue side -----------------------------------------------------

    def intent_enqueued(self, intent: Intent) -> None:
        """Tie ``intent`` to the transaction that is open now, if any."""
        if not connections[self.using].in_atomic_block:
            return
        marker = _CommitMarker(self.using)
        transaction.on_commit(marker, using=self.using)
        if self._markers is None:
            self._markers = {}
        self._markers[id(intent)] = marker

    # -- flush side -------------------------------------------------------

    def dispatch_all(self, intents: list[Intent]) -> None:
        """Dispatch now, or on commit when a transaction is open on ``using``."""
        connection = connections[self.using]
        if connection.in_atomic_block:
            transaction.on_commit(
                partial(self._after_commit, intents, self.using), using=self.using, robust=True
            )
            return
        self._refuse_manual_transaction(intents)
        self._release(intents, self.using)

    def _refuse_manual_transaction(self, intents: list[Intent]) -> None:
        """Outside an atomic block with autocommit off, nobody can tell when the commit happens."""
        connection = connections[self.using]
        if connection.connection is not None and not connection.get_autocommit():
            logger.error(
                "airlock: %r flushed under manual transaction management (autocommit off,"
                " no atomic block) on database %r; airlock cannot tell when that transaction"
                " commits, so it dispatches nothing. Use transaction.atomic().",
                self,
                self.using,
            )
            raise DispatchError([], [], intents)

    def _after_commit(self, intents: list[Intent], using: str) -> None:
        """The on-commit callback; a dispatch failure was already logged and reported."""
        with contextlib.suppress(DispatchError):
            self._release(intents, using)

    def _release(self, intents: list[Intent], settled: str) -> None:
        """Dispatch the intents whose transaction committed; ``settled`` has just ended."""
        ready: list[Intent] = []
        rolled_back: list[Intent] = []
        waiting: dict[str, list[Intent]] = {}
        for intent in intents:
            marker = _marker_of(intent)
            if marker is None or marker.fired:
                ready.append(intent)
            elif marker.using != settled and connections[marker.using].in_atomic_block:
                waiting.setdefault(marker.using, []).append(intent)
            else:
                rolled_back.append(intent)
        for alias, later in waiting.items():
            transaction.on_commit(
                partial(self._after_commit, later, alias), using=alias, robust=True
            )
        if rolled_back:
            _report_rolled_back(self, rolled_back)
        if ready:
            super().dispatch_all(ready)


def _marker_of(intent: Intent) -> _CommitMarker | None:
    origin = intent.origin
    if isinstance(origin, DjangoScope) and origin._markers is not None:
        return origin._markers.get(id(intent))
    return None


def _report_rolled_back(scope: DjangoScope, intents: list[Intent]) -> None:
    logger.info(
        "airlock: %d intent(s) of %r were enqueued in a transaction that rolled back;"
        " they are discarded: %r",
        len(intents),
        scope,
        intents,
    )
    scope.report_discarded(intents)


__all__ = ["DjangoScope"]
