"""Publishing stored rows: each row's id as the message id, stopping at the first failure.

``publish`` is what the fast path (right after the commit) and the relay both
do with the intents they read back from rows; ``deliver_fast`` is the fast
path itself: publish, log what did not go, and record the outcome.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any, NamedTuple

from airlock import DispatchError, Intent
from airlock.executors import dispatch
from airlock_django.conf import OutboxSettings
from airlock_django.store import describe, record

logger = logging.getLogger("airlock_django.outbox")


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


def deliver_fast(
    stored: Sequence[tuple[uuid.UUID, Intent]], executor: Any, using: str, settings: OutboxSettings
) -> None:
    """The fast path, right after the commit: publish, then mark the rows."""
    delivered, failed, untried = publish(stored, executor)
    first = describe(failed[0][1]) if failed else "the executor left them pending"
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


__all__ = ["Published", "deliver_fast", "publish"]
