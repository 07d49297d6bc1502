"""The ``huey`` executor: ``Huey.enqueue`` per intent, a Redis flush in one round trip.

A flush goes out in order. Consecutive intents for one Huey instance on Redis
are enqueued together through one transaction pipeline (``pipelined.py``);
anything else (SQLite, files, memory, immediate mode) gets one
``Huey.enqueue`` per intent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from airlock import Intent, UsageError
from airlock.plugins import DispatchLedger
from airlock_huey.options import MESSAGE_ID, Prepared, prepare
from airlock_huey.pipelined import can_pipeline, pipelined_huey


class _Stop(Exception):
    """The flush stops here: the ledger has recorded why (internal to one flush)."""


class HueyExecutor:
    """Send intents to their Huey tasks, on the Huey instance each task belongs to.

    ``_dispatch_options`` are the options of ``TaskWrapper.schedule()``:
    ``delay`` (seconds or a ``timedelta``), ``eta`` (a ``datetime``),
    ``priority``, ``retries``, ``retry_delay``, ``expires``, ``id`` (and
    ``retry_backoff``, ``timeout`` on Huey 3). Without ``delay`` or ``eta`` the
    task is enqueued to run now, as ``task(...)`` would. Anything else, a task
    that is not a Huey task, and arguments Huey cannot serialize fail that
    intent, reported through ``DispatchError``.
    """

    message_id_option: ClassVar[str] = MESSAGE_ID
    """The dispatch option under which this executor takes a caller-chosen message id.

    Huey's own ``id``: ``_dispatch_options={"id": "order-42"}`` gives the task
    that id (a non-empty string) instead of a fresh UUID, alone or in a
    pipelined flush. The consumer sees it as ``task.id``; results and
    revocations use it (``huey.result("order-42")``).
    """

    unsafe_options: ClassVar[frozenset[str]] = frozenset()
    """None of the options names code to run or changes how a message is decoded.

    Callbacks (``.then()``, ``.error()``) and serializers are set on the task or
    the Huey instance in code, never through dispatch options.
    """

    def __repr__(self) -> str:
        return "<airlock_huey executor 'huey'>"

    def __call__(self, intent: Intent) -> None:
        """Enqueue one intent with ``Huey.enqueue``."""
        item = prepare(intent)
        item.wrapper.huey.enqueue(item.message)

    def dispatch_many(self, intents: Sequence[Intent]) -> None:
        """Send a whole flush, in order: a pipeline per run on one Redis Huey, else one by one.

        Returns when everything went out; otherwise raises ``DispatchError``
        with what went out, what failed and why, and the rest as pending. A
        pipelined run that Redis refused fails as a whole: it is a transaction.
        """
        ledger = DispatchLedger(intents)
        run: list[Prepared] = []
        try:
            for intent in intents:
                try:
                    item = prepare(intent)
                except UsageError as exc:
                    _send_run(run, ledger)
                    ledger.failed(intent, exc)
                    raise _Stop from exc
                huey = item.wrapper.huey
                if can_pipeline(huey):
                    if run and run[0].wrapper.huey is not huey:
                        _send_run(run, ledger)
                        run = []
                    run.append(item)
                    continue
                _send_run(run, ledger)
                run = []
                try:
                    huey.enqueue(item.message)
                except Exception as exc:
                    ledger.failed(intent, exc)
                    raise _Stop from exc
                ledger.dispatched(intent)
            _send_run(run, ledger)
        except _Stop:
            pass
        ledger.settle()


def _send_run(run: list[Prepared], ledger: DispatchLedger) -> None:
    """Enqueue ``run`` (one Huey on Redis) through one transaction pipeline."""
    if not run:
        return
    huey = run[0].wrapper.huey
    with huey.storage.conn.pipeline(transaction=True) as pipe:
        view = pipelined_huey(huey, pipe)
        queued: list[Intent] = []
        refused: tuple[Intent, Exception] | None = None
        for item in run:
            try:
                view.enqueue(item.message)
            except Exception as exc:  # e.g. the serializer refused the arguments
                refused = (item.intent, exc)
                break
            queued.append(item.intent)
        if queued:
            try:
                pipe.execute()
            except Exception as exc:  # none of it, or not knowably all of it, is in Redis
                ledger.failed(queued, exc)
                raise _Stop from exc
            ledger.dispatched(*queued)
    if refused is not None:
        ledger.failed(*refused)
        raise _Stop from refused[1]


#: The executor registered as ``"huey"`` (compatibility path:
#: ``airlock.integrations.executors.huey.huey_executor``).
huey_executor = HueyExecutor()

__all__ = ["HueyExecutor", "huey_executor"]
