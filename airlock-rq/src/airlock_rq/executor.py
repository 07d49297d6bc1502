"""The ``rq`` executor: one intent with ``Queue.enqueue_call``, a flush in one pipeline.

A flush is sent in order. Runs of intents go out together: one transaction
pipeline per run, filled by ``Queue.enqueue_many`` once per queue, and
executed in one round trip. An intent with options only ``Queue.enqueue``
understands (``depends_on``, and on newer RQ ``unique`` or ``rate_limit``)
or a scheduled one (``enqueue_at`` / ``enqueue_in``, sent with the ``Queue``
method of that name) goes on its own, between runs, so order is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

from airlock import Intent, UsageError
from airlock.plugins import DispatchLedger
from airlock_rq import config
from airlock_rq.options import Prepared, prepare


class RQExecutor:
    """Send intents to RQ over the connection from ``airlock_rq.configure()``.

    ``_dispatch_options["queue"]`` picks the queue (default: the configured
    ``default_queue``); every other option goes to RQ as ``Queue.enqueue``
    would take it. Unknown options, tasks an RQ worker cannot import and
    arguments RQ cannot serialize fail that intent with a ``UsageError``
    (or the serializer's error), reported through ``DispatchError``.
    """

    unsafe_options: ClassVar[frozenset[str]] = frozenset(
        {"on_success", "on_failure", "on_stopped", "webhooks", "serializer"}
    )
    """Options that make a worker run code, or act, beyond the job's own function.

    airlock refuses them when they come from a stored outbox row rather than
    from the application's own ``enqueue()`` call:

    - ``on_success``, ``on_failure`` and ``on_stopped`` are callbacks: a
      function, an ``rq.Callback``, or a dotted path the worker imports and
      calls with the job, its connection and its result or error (every RQ
      version airlock-rq supports, 1.16 to 3.x).
    - ``webhooks`` (RQ >= 3.0) makes the worker send an HTTP request, with the
      job's id, function name and error, to any URL the option names.
    - ``serializer`` decides how a job is decoded. RQ sets it per ``Queue``, not
      per job, so the executor refuses it as an unknown option anyway; it is
      declared so that a row naming it is refused as unsafe, whatever RQ
      version is installed.
    """

    message_id_option: ClassVar[str] = "job_id"
    """The dispatch option under which this executor takes a caller-chosen message id.

    RQ's own ``job_id``: ``_dispatch_options={"job_id": "order-42"}`` gives the
    job that id (a non-empty string RQ accepts as a job id) instead of one RQ
    generates, whether the intent goes out alone or in a flush's
    ``enqueue_many``. The worker sees it as ``get_current_job().id``.
    """

    def __init__(self) -> None:
        self._queues: dict[tuple[int, str], Queue] = {}

    def __repr__(self) -> str:
        return "<airlock_rq executor 'rq'>"

    def __call__(self, intent: Intent) -> None:
        """Enqueue one intent with ``Queue.enqueue_call``."""
        item = prepare(intent, config.default_queue())
        connection = config.get_connection()
        _enqueue_call(self.queue(connection, item.queue), item)

    def dispatch_many(self, intents: Sequence[Intent]) -> None:
        """Send a whole flush, in order, in as few round trips as RQ allows.

        Returns when everything went out; otherwise raises ``DispatchError``
        with the intents that went out, the one(s) that failed with the
        reason, and the rest as pending. A batch whose pipeline failed is
        failed as a whole: it did not go out, or its delivery is uncertain
        (the connection may have broken after Redis ran the transaction, so
        some or all of it may be in Redis).
        """
        ledger = DispatchLedger(intents)
        try:
            connection = config.get_connection()
        except UsageError as exc:
            ledger.failed(intents, exc)
        else:
            self._send_all(connection, intents, ledger)
        ledger.settle()

    def queue(self, connection: Redis, name: str) -> Queue:
        """The ``rq.Queue`` called ``name`` on ``connection`` (kept, so RQ's caches last)."""
        key = (id(connection), name)
        queue = self._queues.get(key)
        if queue is None or queue.connection is not connection:
            queue = self._queues[key] = Queue(name, connection=connection)
        return queue

    def _send_all(
        self, connection: Redis, intents: Sequence[Intent], ledger: DispatchLedger
    ) -> None:
        """Send ``intents`` in order, recording each outcome; stop at the first failure."""
        default_queue = config.default_queue()
        run: list[Prepared] = []
        ids: set[object] = set()
        for intent in intents:
            try:
                item = prepare(intent, default_queue)
            except UsageError as exc:
                if self._send_run(connection, run, ledger):
                    ledger.failed(intent, exc)
                return
            if item.batchable:
                job_id = item.options.get("job_id")
                if job_id is not None and job_id in ids:
                    # RQ 3's enqueue_many refuses an id twice: a new run, so the second
                    # replaces the first as a second Queue.enqueue() would.
                    if not self._send_run(connection, run, ledger):
                        return
                    run, ids = [], set()
                ids.add(job_id)
                run.append(item)
                continue
            if not self._send_run(connection, run, ledger):
                return
            run, ids = [], set()
            try:
                _enqueue_call(self.queue(connection, item.queue), item)
            except Exception as exc:
                ledger.failed(intent, exc)
                return
            ledger.dispatched(intent)
        self._send_run(connection, run, ledger)

    def _send_run(self, connection: Redis, run: list[Prepared], ledger: DispatchLedger) -> bool:
        """One transaction pipeline for ``run``; returns whether all of it went out.

        When RQ cannot build one of the jobs, the jobs before it are sent and
        it fails alone.
        """
        if not run:
            return True
        by_queue: dict[str, list[Any]] = {}
        for item in run:
            by_queue.setdefault(item.queue, []).append(_job_data(item))
        with connection.pipeline() as pipe:
            try:
                for name, datas in by_queue.items():
                    self.queue(connection, name).enqueue_many(datas, pipeline=pipe)
            except RedisError as exc:
                ledger.failed([item.intent for item in run], exc)
                return False
            except Exception as exc:
                pipe.reset()
                culprit = self._first_unsendable(connection, run)
                if culprit is None:  # the run as a whole is wrong
                    ledger.failed([item.intent for item in run], exc)
                    return False
                position, error = culprit
                if self._send_run(connection, run[:position], ledger):
                    ledger.failed(run[position].intent, error)
                return False
            try:
                pipe.execute()
            except Exception as exc:  # delivery uncertain: Redis may hold some or all of it
                ledger.failed([item.intent for item in run], exc)
                return False
        ledger.dispatched(*(item.intent for item in run))
        return True

    def _first_unsendable(
        self, connection: Redis, run: list[Prepared]
    ) -> tuple[int, Exception] | None:
        """Find the first job RQ cannot build on its own (its arguments do not serialize)."""
        for position, item in enumerate(run):
            with connection.pipeline() as probe:
                try:
                    queue = self.queue(connection, item.queue)
                    queue.enqueue_many([_job_data(item)], pipeline=probe)
                except Exception as exc:
                    return position, exc
                finally:
                    probe.reset()
        return None


def _enqueue_call(queue: Queue, item: Prepared) -> None:
    func: Any = item.func
    args, kwargs = item.intent.args, dict(item.intent.kwargs)
    if item.schedule is None:
        queue.enqueue_call(func, args=args, kwargs=kwargs, **item.options)
        return
    method, when = item.schedule  # Queue.enqueue_at(datetime, ...) or enqueue_in(timedelta, ...)
    getattr(queue, method)(when, func, args=args, kwargs=kwargs, **item.options)


def _job_data(item: Prepared) -> Any:
    func: Any = item.func
    return Queue.prepare_data(
        func, args=item.intent.args, kwargs=dict(item.intent.kwargs), **item.options
    )


rq_executor = RQExecutor()
