"""How a flush hands intents to an executor, and how every intent is accounted for.

``dispatch()`` sends a flush through one executor: one by one, or through the
executor's ``dispatch_many`` when it has one. Either way each intent ends up
dispatched, failed or pending, and a failure raises ``DispatchError`` with
those three lists, after the lifecycle hooks heard of it.
``DispatchLedger`` is the bookkeeping a ``dispatch_many`` keeps to say so.
"""

from __future__ import annotations

from airlock.errors import DispatchError, UsageError
from airlock.importing import import_object
from airlock.intents import Intent
from airlock.lifecycle import lifecycle

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any


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


class DispatchLedger:
    """The books of one ``dispatch_many``: which intents went out, which failed, which wait.

    Mark each intent once, as ``dispatched`` or ``failed`` (with the error;
    a batch the broker refused, or whose delivery is uncertain, is failed as a
    whole); whatever is never marked is pending. ``settle()`` then returns when
    everything went out, or raises the ``DispatchError`` a one-by-one flush
    would have raised, every list in flush order::

        def dispatch_many(self, intents):
            ledger = DispatchLedger(intents)
            for run in runs_of(intents):
                try:
                    send(run)
                except BrokerError as exc:
                    ledger.failed(run, exc)
                    break
                ledger.dispatched(*run)
            ledger.settle()
    """

    __slots__ = ("_errors", "_intents", "_outcome")

    def __init__(self, intents: Sequence[Intent]) -> None:
        self._intents = list(intents)
        #: id(intent) -> None (dispatched) or the error it failed with.
        self._outcome: dict[int, BaseException | None] = {}
        self._errors: list[BaseException] = []

    def dispatched(self, *intents: Intent) -> None:
        """Record that ``intents`` went out."""
        for intent in intents:
            self._record(intent, None)

    def failed(self, intents: Intent | Iterable[Intent], error: BaseException) -> None:
        """Record that ``intents`` (one or many) did not go out, or may not have, and why."""
        for intent in (intents,) if isinstance(intents, Intent) else intents:
            self._record(intent, error)
        self._errors.append(error)

    def _record(self, intent: Intent, error: BaseException | None) -> None:
        key = id(intent)
        if key in self._outcome:
            raise UsageError(
                f"{intent!r} was already recorded as"
                f" {'dispatched' if self._outcome[key] is None else 'failed'}; a ledger"
                f" records each intent of the batch once."
            )
        self._outcome[key] = error

    @property
    def pending(self) -> list[Intent]:
        """The intents neither dispatched nor failed yet, in flush order."""
        return [i for i in self._intents if id(i) not in self._outcome]

    def settle(self) -> None:
        """Return if every intent was dispatched; else raise ``DispatchError``.

        The error is chained to the first recorded failure.
        """
        if len(self._outcome) == len(self._intents) and not self._errors:
            return
        dispatched: list[Intent] = []
        failed: list[tuple[Intent, BaseException]] = []
        pending: list[Intent] = []
        for intent in self._intents:
            key = id(intent)
            if key not in self._outcome:
                pending.append(intent)
                continue
            error = self._outcome[key]
            if error is None:
                dispatched.append(intent)
            else:
                failed.append((intent, error))
        raise DispatchError(dispatched, failed, pending) from (
            self._errors[0] if self._errors else None
        )


def dispatch(
    intents: Sequence[Intent],
    executor: Any,
    *,
    keep_going: bool = False,
    scope: Any = None,
    log: bool = True,
) -> None:
    """Send ``intents`` in order through ``executor``, accounting for every one.

    Stops at the first failure (or, with ``keep_going``, tries the rest) and
    raises ``DispatchError`` listing what was dispatched, what failed and what
    is still pending. Uses the executor's ``dispatch_many`` when it has one.
    ``scope`` is the scope whose flush this is, for the
    ``airlock_dispatch_started`` / ``airlock_dispatch_finished`` hooks. A
    failure is logged on the ``airlock`` logger (ERROR, with the traceback)
    unless ``log`` is false: a caller that reports it its own way (the outbox,
    for which a failed publish loses nothing) passes ``log=False``.
    """
    if lifecycle.dispatch_started is None and lifecycle.dispatch_finished is None:
        _send(intents, executor, keep_going, log)
        return
    if lifecycle.dispatch_started is not None:
        lifecycle.dispatch_started(intents=intents, executor=executor, scope=scope)
    try:
        _send(intents, executor, keep_going, log)
    except BaseException as error:  # a DispatchError, or what interrupted the batch
        if lifecycle.dispatch_finished is not None:
            lifecycle.dispatch_finished(
                intents=intents, executor=executor, scope=scope, error=error
            )
        raise
    if lifecycle.dispatch_finished is not None:
        lifecycle.dispatch_finished(intents=intents, executor=executor, scope=scope, error=None)


def _send(intents: Sequence[Intent], executor: Any, keep_going: bool, log: bool) -> None:
    if getattr(executor, "dispatch_many", None) is not None:
        _dispatch_batch(intents, executor, keep_going, log)
        return
    dispatched: list[Intent] = []
    failed: list[tuple[Intent, BaseException]] = []
    on_dispatched = lifecycle.dispatched
    for position, intent in enumerate(intents):
        try:
            executor(intent)
        except Exception as exc:
            failed.append((intent, exc))
            if not keep_going:
                report(dispatched, failed, intents[position + 1 :], log=log)
            continue
        dispatched.append(intent)
        if on_dispatched is not None:
            on_dispatched(intent=intent, executor=executor)
    if failed:
        report(dispatched, failed, [], log=log)


def _dispatch_batch(intents: Sequence[Intent], executor: Any, keep_going: bool, log: bool) -> None:
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
    on_dispatched = lifecycle.dispatched
    if on_dispatched is not None:
        for intent in dispatched:
            on_dispatched(intent=intent, executor=executor)
    if failed or remaining:
        report(dispatched, failed, remaining, log=log)


def report(
    dispatched: Sequence[Intent],
    failed: Sequence[tuple[Intent, BaseException]],
    pending: Sequence[Intent],
    *,
    log: bool = True,
) -> None:
    """Tell the lifecycle hooks (and the log) about a failed flush, and raise ``DispatchError``."""
    on_failed = lifecycle.failed
    if on_failed is not None:
        for intent, exc in failed:
            on_failed(intent=intent, error=exc)
    error = DispatchError(dispatched, failed, pending)
    if log:
        import logging  # only on this path: importing logging costs more than all of airlock

        logging.getLogger("airlock").error("%s", error, exc_info=failed[0][1] if failed else None)
    if failed:
        raise error from failed[0][1]
    raise error


def message_id_option(executor: object) -> str | None:
    """The dispatch option under which ``executor`` takes a caller-chosen message id, if any."""
    option = getattr(executor, "message_id_option", None)
    if option is not None and not (isinstance(option, str) and option):
        raise UsageError(
            f"{executor!r}.message_id_option must be the name of a dispatch option (a"
            f" non-empty string) or None, got {option!r}."
        )
    return option


def permanent_errors(executor: object) -> tuple[type[BaseException], ...]:
    """The exception types ``executor`` declares permanent: sending again cannot succeed.

    An executor lists them in ``permanent_errors`` (a message its broker
    client can never encode, say). The outbox relay sets a row aside at once
    when its publish failed with one of them, instead of retrying with backoff.
    """
    declared = getattr(executor, "permanent_errors", ())
    if not isinstance(declared, tuple) or not all(
        isinstance(kind, type) and issubclass(kind, BaseException) for kind in declared
    ):
        raise UsageError(
            f"{executor!r}.permanent_errors must be a tuple of exception classes such as"
            f" (UnicodeEncodeError,), got {declared!r}."
        )
    return declared


def unsafe_options(executor: object) -> frozenset[str]:
    """The dispatch options ``executor`` declares unsafe from untrusted sources (stored rows)."""
    declared = getattr(executor, "unsafe_options", ())
    if isinstance(declared, str) or not all(isinstance(o, str) for o in declared):
        raise UsageError(
            f"{executor!r}.unsafe_options must be a collection of option names such as"
            f" frozenset({{'link'}}), got {declared!r}."
        )
    return frozenset(declared)


__all__ = [
    "DispatchLedger",
    "dispatch",
    "message_id_option",
    "permanent_errors",
    "report",
    "sync_executor",
    "unsafe_options",
]
