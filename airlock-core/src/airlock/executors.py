"""Executors decide *how* an intent runs; ``dispatch`` runs a flush and keeps the books."""

from __future__ import annotations

from airlock.errors import DispatchError
from airlock.plugins import import_object
from airlock.plugins import lifecycle as _hooks

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from airlock.intents import Intent


def sync_executor(intent: Intent) -> None:
    """Run the task in-process, now. Dispatch options are ignored.

    A string task is imported by its dotted path first.
    """
    task = intent.task
    if isinstance(task, str):
        task = import_object(task, what="task")
    if intent.kwargs:
        task(*intent.args, **intent.kwargs)
    else:  # the shared empty mapping unpacks slowly: ~10x an empty dict
        task(*intent.args)


def dispatch(intents: Sequence[Intent], executor: Any, *, keep_going: bool = False) -> None:
    """Send ``intents`` in order through ``executor``, accounting for every one.

    Stops at the first failure (or, with ``keep_going``, tries the rest) and
    raises ``DispatchError`` listing what was dispatched, what failed and what
    is still pending.
    """
    if executor is not sync_executor and getattr(executor, "dispatch_many", None) is not None:
        _dispatch_batch(intents, executor, keep_going)
        return
    on_dispatched = _hooks.dispatched
    if on_dispatched is None and not keep_going:  # the common case: nothing but the loop
        intent = None
        try:
            for intent in intents:
                executor(intent)
        except Exception as exc:
            assert intent is not None
            position = _position(intents, intent)
            fail(intents[:position], [(intent, exc)], intents[position + 1 :])
        return
    dispatched: list[Intent] = []
    failed: list[tuple[Intent, BaseException]] = []
    for position, intent in enumerate(intents):
        try:
            executor(intent)
        except Exception as exc:
            failed.append((intent, exc))
            if not keep_going:
                fail(dispatched, failed, intents[position + 1 :])
            continue
        dispatched.append(intent)
        if on_dispatched is not None:
            on_dispatched(intent=intent, executor=executor)
    if failed:
        fail(dispatched, failed, [])


def _dispatch_batch(intents: Sequence[Intent], executor: Any, keep_going: bool) -> None:
    dispatched: list[Intent] = []
    failed: list[tuple[Intent, BaseException]] = []
    remaining = list(intents)
    while remaining:
        try:
            executor.dispatch_many(remaining)
        except DispatchError as exc:
            told = {id(i) for i in (*exc.dispatched, *(i for i, _ in exc.failed), *exc.pending)}
            dispatched += exc.dispatched
            # An intent the executor did not account for may or may not have gone out.
            failed += [*exc.failed, *((i, exc) for i in remaining if id(i) not in told)]
            remaining = list(exc.pending)
            if keep_going and exc.failed:
                continue
            break
        except Exception as exc:
            failed += [(intent, exc) for intent in remaining]
            remaining = []
            break
        dispatched += remaining
        remaining = []
    on_dispatched = _hooks.dispatched
    if on_dispatched is not None:
        for intent in dispatched:
            on_dispatched(intent=intent, executor=executor)
    if failed or remaining:
        fail(dispatched, failed, remaining)


def _position(intents: Sequence[Intent], intent: Intent) -> int:
    for position, candidate in enumerate(intents):
        if candidate is intent:
            return position
    raise AssertionError("the failing intent is not part of the flush")  # pragma: no cover


def fail(
    dispatched: Sequence[Intent],
    failed: Sequence[tuple[Intent, BaseException]],
    pending: Sequence[Intent],
) -> None:
    """Report the failures (hook, log) and raise ``DispatchError``."""
    import logging

    on_failed = _hooks.failed
    if on_failed is not None:
        for intent, exc in failed:
            on_failed(intent=intent, error=exc)
    error = DispatchError(dispatched, failed, pending)
    logging.getLogger("airlock").error("%s", error, exc_info=failed[0][1] if failed else None)
    if failed:
        raise error from failed[0][1]
    raise error


__all__ = ["dispatch", "sync_executor"]
