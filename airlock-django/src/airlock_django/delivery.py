"""Publishing stored rows: each row's id as the message id, stopping at the first failure.

``publish`` is what the fast path (right after the commit) and the relay both
do with the intents they read back from rows; ``deliver_fast`` is the fast
path itself: publish, log what did not go, and record the outcome.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any, NamedTuple

from django.db import transaction

from airlock import DispatchError, Intent, UsageError
from airlock.plugins import dispatch, message_id_option
from airlock_django.conf import OutboxSettings
from airlock_django.store import describe, record, without_waiting_for_disk

logger = logging.getLogger("airlock_django.outbox")

#: Set while the outbox publishes in this context (thread, asyncio task).
_publishing: ContextVar[bool] = ContextVar("airlock_django_outbox_publishing", default=False)


class _OutboxReportsItself(logging.Filter):
    """Keeps airlock's report of a failed dispatch out of the logs while the outbox publishes.

    ``airlock.plugins.dispatch`` logs every ``DispatchError`` at ERROR with
    its traceback, rightly where a failure loses the effect. The outbox has
    the effect safe in its table, so it reports a failed publish itself: one
    WARNING saying how many effects wait for the relay, the traceback at
    DEBUG. Only that record, and only in the context that publishes, is held
    back.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            _publishing.get()
            and isinstance(record.args, tuple)
            and len(record.args) == 1
            and isinstance(record.args[0], DispatchError)
        )


logging.getLogger("airlock").addFilter(_OutboxReportsItself())


#: Errors that say the message itself is wrong (its arguments or options), not the broker:
#: publishing it again cannot succeed.
PERMANENT = (TypeError, ValueError, LookupError, ArithmeticError, ImportError, UsageError)


def is_permanent(error: BaseException) -> bool:
    """Whether publishing again cannot help: the message itself was refused.

    True for ``PERMANENT`` errors, and for errors explicitly raised from one
    (``raise ... from``: kombu reports an unknown compression as an
    ``OperationalError`` from a ``KeyError``). Anything else, connection and
    timeout errors above all, is worth a retry; so is an ``OSError`` even
    where it is also a ``ValueError``. An error only raised *while handling*
    another (its ``__context__``) is judged by itself: client libraries raise
    their connection errors inside ``except`` blocks of all kinds.
    """
    for candidate in (error, error.__cause__):
        if isinstance(candidate, PERMANENT) and not isinstance(candidate, OSError):
            return True
    return False


class Published(NamedTuple):
    """What one publish did with the rows it was given, by ``intent_id``.

    ``failed`` may succeed later (the broker is down); ``refused`` cannot
    (``is_permanent``); ``untried`` were not attempted after a failure.
    """

    delivered: list[uuid.UUID]
    failed: list[tuple[uuid.UUID, BaseException]]
    refused: list[tuple[uuid.UUID, BaseException]]
    untried: list[uuid.UUID]


def publish(stored: Sequence[tuple[uuid.UUID, Intent]], executor: Any) -> Published:
    """Dispatch the stored intents in order, each id as the message id, up to the first failure.

    A failure the message itself caused (``is_permanent``) refuses that one
    message and the publish goes on with the next. Any other failure stops it:
    a broker that refused one message is most likely down, and every further
    attempt would wait out the client's own connection retries too (several
    seconds each with Celery's defaults), in the request on the fast path and
    holding row locks in the relay. The rest are reported untried, as is an
    intent the executor left pending.
    """
    option = message_id_option(executor)
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
                headers=intent.headers,
            )
        by_intent[id(intent)] = intent_id
        intents.append(intent)
    outcome = Published([], [], [], [])
    token = _publishing.set(True)
    try:
        _publish(intents, executor, by_intent, outcome)
    finally:
        _publishing.reset(token)
    for _, error in (*outcome.refused, *outcome.failed):
        logger.debug("airlock outbox: the publish failed", exc_info=error)
    return outcome


def _publish(
    intents: list[Intent], executor: Any, by_intent: dict[int, uuid.UUID], outcome: Published
) -> None:
    while intents:
        try:
            dispatch(intents, executor, keep_going=False)
        except DispatchError as exc:
            outcome.delivered.extend(by_intent[id(i)] for i in exc.dispatched)
            stopped = not exc.failed  # the executor left the rest pending: it stopped itself
            for intent, error in exc.failed:
                if is_permanent(error):
                    outcome.refused.append((by_intent[id(intent)], error))
                else:
                    outcome.failed.append((by_intent[id(intent)], error))
                    stopped = True
            intents = list(exc.pending)
            if stopped:
                outcome.untried.extend(by_intent[id(i)] for i in intents)
                break
        else:
            outcome.delivered.extend(by_intent[id(i)] for i in intents)
            break


def deliver_fast(
    stored: Sequence[tuple[uuid.UUID, Intent]], executor: Any, using: str, settings: OutboxSettings
) -> None:
    """The fast path, right after the commit: publish, then mark the rows.

    The marks commit without waiting for the disk (``without_waiting_for_disk``):
    the rows themselves were committed durably with the application's writes,
    and a mark lost in a database crash only makes the relay publish that row
    again, under the same id.
    """
    published = publish(stored, executor)
    waiting = len(published.failed) + len(published.untried)
    first = (
        describe(published.failed[0][1]) if published.failed else "the executor left them pending"
    )
    if waiting:
        logger.warning(
            "airlock outbox: %d of %d effect(s) were not published after the commit (%d failed,"
            " %d not tried after that); the %d wait in the outbox for `manage.py"
            " airlock_relay`, which retries them. First error: %s",
            waiting,
            len(stored),
            len(published.failed),
            len(published.untried),
            waiting,
            first,
        )
    if published.refused:
        logger.warning(
            "airlock outbox: %d of %d effect(s) were refused by the executor (%s); a retry"
            " cannot help, so their rows are dead. Fix the cause, then run `manage.py"
            " airlock_relay --retry-dead`.",
            len(published.refused),
            len(stored),
            describe(published.refused[0][1]),
        )
    with transaction.atomic(using=using):
        without_waiting_for_disk(using)
        record(
            using,
            published.delivered,
            [(intent_id, 0, error) for intent_id, error in published.failed],
            settings,
            refused=[(intent_id, 0, error) for intent_id, error in published.refused],
            untried=published.untried,
            untried_reason=f"the publish stopped at an earlier failure ({first})",
        )


__all__ = ["PERMANENT", "Published", "deliver_fast", "is_permanent", "publish"]
