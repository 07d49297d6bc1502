"""The ``dramatiq`` executor: ``actor.send_with_options`` per intent, a Redis flush pipelined.

Dramatiq has no batch API. On a ``RedisBroker`` a flush still goes out in one
round trip: each message goes through the broker's own ``enqueue`` (message
ids, delays, middleware hooks) on a view of the broker whose Redis client is a
transaction pipeline, executed once at the end. Other brokers (RabbitMQ, the
stub broker) get one ``send_with_options`` per intent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from airlock import Intent, UsageError
from airlock.plugins import DispatchLedger
from airlock_dramatiq.actors import Prepared, prepare
from airlock_dramatiq.pipelined import is_redis_broker, pipelined_broker


class DramatiqExecutor:
    """Send intents to their Dramatiq actors.

    ``_dispatch_options`` become ``send_with_options`` keyword arguments:
    ``delay`` (milliseconds or a ``timedelta``) and any option the broker's
    middleware declare (``max_retries``, ``time_limit``, ``on_success``, ...),
    plus ``pipe_target``, and ``message_id``. The queue is the actor's.
    Anything else, a task that is not an actor, and arguments the broker's
    encoder cannot serialize fail that intent, reported through ``DispatchError``.
    """

    message_id_option: ClassVar[str] = "message_id"
    """The dispatch option under which this executor takes a caller-chosen message id.

    ``_dispatch_options={"message_id": "order-42"}`` sends the message with that
    id (a non-empty string) instead of one Dramatiq generates: the message is
    built by ``actor.message_with_options``, given the id with
    ``Message.copy(message_id=...)`` and enqueued by the broker's ``enqueue``.
    The worker sees it as ``message.message_id``.
    """

    unsafe_options: ClassVar[frozenset[str]] = frozenset(
        {"on_success", "on_failure", "on_retry_exhausted", "pipe_target", "retry_when", "throws"}
    )
    """Options that make a worker run code the intent's task did not name.

    airlock refuses them when they come from a stored outbox row rather than
    from the application's own ``enqueue()`` call. Each is read by one of
    Dramatiq's own middleware on the worker:

    - ``on_success``, ``on_failure`` (``Callbacks``) and ``on_retry_exhausted``
      (``Retries``, Dramatiq >= 1.17) name an actor the worker sends a message
      to, carrying the whole message and its result or error.
    - ``pipe_target`` (``Pipelines``) is a complete message (actor, arguments,
      options, nested ``pipe_target`` included) the worker enqueues after this
      one succeeds.
    - ``retry_when`` (a callable) and ``throws`` (exception classes) are code
      the ``Retries`` middleware calls or tests the actor's exception against
      to decide the message's fate.

    Options of the application's own middleware are the application's to judge.
    """

    def __repr__(self) -> str:
        return "<airlock_dramatiq executor 'dramatiq'>"

    def __call__(self, intent: Intent) -> None:
        """Send one intent with ``actor.send_with_options``."""
        _send(prepare(intent))

    def dispatch_many(self, intents: Sequence[Intent]) -> None:
        """Send a whole flush in order: pipelined per Redis broker, one by one otherwise.

        Returns when everything went out; otherwise raises ``DispatchError``
        accounting for every intent, as a one-by-one flush would: what went
        out, what failed (did not go out, or delivery is uncertain) and why,
        and the rest as pending.
        """
        ledger = DispatchLedger(intents)
        _send_all(intents, ledger)
        ledger.settle()


def _send_all(intents: Sequence[Intent], ledger: DispatchLedger) -> None:
    """Send ``intents`` in order, recording each outcome; stop at the first failure."""
    run: list[Prepared] = []
    for intent in intents:
        try:
            item = prepare(intent)
        except UsageError as exc:
            if _send_run(run, ledger):
                ledger.failed(intent, exc)
            return
        if is_redis_broker(item.actor.broker):
            if run and run[0].actor.broker is not item.actor.broker:
                if not _send_run(run, ledger):
                    return
                run = []
            run.append(item)
            continue
        if not _send_run(run, ledger):
            return
        run = []
        try:
            _send(item)
        except Exception as exc:
            ledger.failed(intent, exc)
            return
        ledger.dispatched(intent)
    _send_run(run, ledger)


def _send(item: Prepared) -> None:
    if item.message_id is None:
        item.actor.send_with_options(
            args=item.intent.args, kwargs=dict(item.intent.kwargs), delay=item.delay, **item.options
        )
    else:
        item.actor.broker.enqueue(_message(item), delay=item.delay)


def _message(item: Prepared) -> Any:
    """The message ``send_with_options`` would build, with the caller's id if one was given."""
    message = item.actor.message_with_options(
        args=item.intent.args, kwargs=dict(item.intent.kwargs), **item.options
    )
    if item.message_id is not None:
        message = message.copy(message_id=item.message_id)
    return message


def _send_run(run: list[Prepared], ledger: DispatchLedger) -> bool:
    """Enqueue ``run`` (all on one Redis broker) through one transaction pipeline.

    Records each intent of the run and returns whether all of it went out. A
    message the broker cannot build (its encoder refused the arguments) fails
    alone, after the ones before it are sent.
    """
    if not run:
        return True
    broker: Any = run[0].actor.broker
    with broker.client.pipeline(transaction=True) as pipe:
        view = pipelined_broker(broker, pipe)
        queued: list[Prepared] = []
        refused: tuple[Intent, BaseException] | None = None
        for item in run:
            try:
                view.enqueue(_message(item), delay=item.delay)
            except Exception as exc:  # e.g. the encoder refused the arguments
                refused = (item.intent, exc)
                break
            queued.append(item)
        if queued:
            try:
                replies = pipe.execute(raise_on_error=False)
            except Exception as exc:  # delivery uncertain: Redis may hold some or all of it
                ledger.failed([item.intent for item in queued], exc)
                return False
            sent = True
            for item, reply in zip(queued, replies, strict=True):
                if isinstance(reply, Exception):
                    ledger.failed(item.intent, reply)
                    sent = False
                else:
                    ledger.dispatched(item.intent)
            if not sent:
                if refused is not None:
                    ledger.failed(*refused)
                return False
    if refused is not None:
        ledger.failed(*refused)
        return False
    return True


dramatiq_executor = DramatiqExecutor()
