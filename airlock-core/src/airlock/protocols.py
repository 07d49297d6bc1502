"""The shapes a user or plugin plugs in: ``Policy``, ``Executor`` and ``BatchExecutor``.

Kept apart so that ``import airlock`` does not pay for ``typing``; airlock
itself duck-types them (``isinstance`` works too: they are runtime-checkable).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from airlock.intents import Intent


@runtime_checkable
class Policy(Protocol):
    """Anything with ``on_enqueue`` and ``allows`` is a policy.

    ``on_enqueue(intent)`` runs when the intent is buffered: observe it, or
    raise ``PolicyViolation`` to refuse it. ``allows(intent)`` runs at flush:
    return ``False`` to drop the intent. Policies filter; they never reorder.
    """

    def on_enqueue(self, intent: Intent) -> None:
        """Observe a newly buffered intent, or raise ``PolicyViolation``."""

    def allows(self, intent: Intent) -> bool:
        """Return whether the intent may be dispatched at flush."""


@runtime_checkable
class Executor(Protocol):
    """A callable that sends one intent on its way; raise if it could not be sent.

    Any function ``executor(intent) -> None`` is one. An executor may also
    offer, as attributes:

    - ``dispatch_many(intents)``: send a whole flush in one go (see
      ``BatchExecutor``); a flush uses it when present.
    - ``message_id_option``: the name of the dispatch option under which it
      takes a caller-chosen message id (Celery's ``"task_id"``, RQ's
      ``"job_id"``). The outbox passes each row's stable id there, so that a
      message published twice is recognisable as the same one.
    - ``unsafe_options``: the dispatch options that name code to run or
      change how the message is decoded (Celery's ``link``, ``serializer``).
      airlock refuses them when they come from a stored row instead of the
      application's own code.
    - ``permanent_errors``: a tuple of exception types after which sending
      the same message again cannot succeed; the outbox relay sets such a row
      aside at once instead of retrying it.

    ``airlock.plugins.message_id_option(executor)``,
    ``airlock.plugins.unsafe_options(executor)`` and
    ``airlock.plugins.permanent_errors(executor)`` read the last three, checked.
    """

    def __call__(self, intent: Intent, /) -> None:
        """Dispatch one intent; raise if it could not be sent."""


@runtime_checkable
class BatchExecutor(Executor, Protocol):
    """An executor that can send a whole flush at once (one connection, one pipeline).

    ``dispatch_many(intents)`` sends them in order. It returns only when every
    intent went out; otherwise it raises ``DispatchError`` accounting for
    every intent exactly as a one-by-one flush would: ``dispatched`` (went
    out), ``failed`` (did not, or delivery is uncertain, each with its error)
    and ``pending`` (never attempted). ``airlock.plugins.DispatchLedger``
    keeps those books. Any other exception counts the whole batch as failed.
    """

    def dispatch_many(self, intents: Sequence[Intent], /) -> None:
        """Send ``intents`` in order; raise ``DispatchError`` unless all went out."""
