"""The ``celery`` executor: buffered intents become ``task.apply_async()`` calls.

A flush of many intents goes out through ``dispatch_many``: one producer per
Celery app, in kombu batches where the transport supports them, under
publisher confirms on RabbitMQ, with every intent accounted for if the broker
refuses a message or fails part-way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airlock import DispatchError, UsageError
from airlock.plugins import DispatchLedger
from airlock.plugins import publishing as announcing
from airlock_celery._publishing import _publishing, publishing
from airlock_celery.headers import dispatch_options
from airlock_celery.lookup import current_app, registered_task

if TYPE_CHECKING:
    from airlock import Intent


class CeleryExecutor:
    """Publish Celery tasks with ``task.apply_async(args=, kwargs=, **_dispatch_options)``.

    Dispatch options (``countdown``, ``eta``, ``queue``, ``priority``,
    ``headers``, ``task_id``, ...) reach ``apply_async`` untouched. A task given
    as a string must be the name of a task registered on Celery's current app:
    it names a task on the broker, and is never imported or run here. A
    signature or canvas (``task.s(1)``, ``chain(...)``) is sent with its own
    ``apply_async``, outside the batch. Anything else (a plain callable) runs
    in-process at flush, like the ``sync`` executor.

    ``batch_size`` is how many messages a flush sends before it waits for the
    broker: one Redis pipeline, or one wait for RabbitMQ's publisher confirms.
    ``publisher_confirms`` (on by default) makes a flush over RabbitMQ wait for
    the broker's confirms, once per batch, so that a message the broker drops
    is reported instead of counted as dispatched.

    A flush (``dispatch_many``) builds the messages of most intents with
    Celery's ``app.amqp.create_task_message`` / ``send_task_message``, doing the
    rest of ``apply_async``'s work once per task instead of once per message
    (see ``airlock_celery.batch``); the messages are the ones ``apply_async``
    sends. Every broker wait of a flush is bounded (see
    ``airlock_celery.connections``).
    """

    message_id_option: ClassVar[str] = "task_id"
    """The dispatch option under which this executor accepts a caller-chosen message id.

    Celery's own ``task_id``: ``_dispatch_options={"task_id": "order-42"}``
    sends the task with that id instead of one Celery generates, whether the
    intent goes out alone or in a batched flush. The worker sees it as
    ``self.request.id``. The Django outbox sets it to the intent's stable id,
    so that a duplicate publish of the same intent is recognisable.
    """

    unsafe_options: ClassVar[frozenset[str]] = frozenset(
        {
            "link",
            "link_error",
            "chain",
            "chord",
            "headers",
            "serializer",
            "compression",
        }
    )
    """Dispatch options that name code to run or change how the worker decodes the message.

    This executor honours them; a component that publishes intents it did not
    build itself (the outbox relay, reading rows from a table) refuses an
    intent that carries any of them. Each one, as ``apply_async()`` treats it:

    * ``link``, ``link_error``: signatures, given as dicts too
      (``{"task": "name", "args": [...]}``), that the worker sends or calls
      after the task succeeds or fails: they name tasks to run.
    * ``chain``: the signatures a worker runs after this task (what
      ``chain()`` puts in the message): tasks to run.
    * ``chord``: the callback signature a chord runs when its header is done:
      a task to run.
    * ``headers``: merged over Celery's own message headers, so
      ``{"task": "other.name"}`` makes the worker run another task with these
      arguments (and ``shadow``, ``eta``, ``retries``, ... can be forged).
    * ``serializer``: the codec the worker decodes the body with
      (``"pickle"`` among them, where a worker accepts it).
    * ``compression``: the codec the worker decompresses the body with,
      before decoding it.

    Not listed, because they name no code and leave decoding alone: routing
    (``queue``, ``exchange``, ``routing_key``: which workers receive it),
    timing (``countdown``, ``eta``, ``expires``), ``priority``, ``task_id``,
    ``shadow`` (the name shown in logs), ``time_limit``, ``soft_time_limit``,
    ``ignore_result``, ``retry``, ``retry_policy``, ``mandatory``. Kombu's
    ``content_type`` and ``content_encoding`` would declare a decoding too,
    but kombu then sends the body unserialized, and a Celery message (a
    tuple) cannot go out that way: such an intent fails at flush. Connection
    handles (``producer``, ``connection``, ``router``, ``result_cls``) are
    objects a stored row cannot hold.
    """

    def __init__(self, *, batch_size: int = 1000, publisher_confirms: bool = True) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise UsageError(f"batch_size must be a positive integer, got {batch_size!r}.")
        if not isinstance(publisher_confirms, bool):
            raise UsageError(
                f"publisher_confirms must be True or False, got {publisher_confirms!r}."
            )
        self.batch_size = batch_size
        self.publisher_confirms = publisher_confirms

    def __repr__(self) -> str:
        return (
            f"CeleryExecutor(batch_size={self.batch_size},"
            f" publisher_confirms={self.publisher_confirms})"
        )

    def __call__(self, intent: Intent) -> None:
        """Dispatch one intent as a flush of one; raise the reason if it did not go out."""
        try:
            self.dispatch_many([intent])
        except DispatchError as error:
            raise error.failed[0][1] from error

    def dispatch_many(self, intents: Sequence[Intent]) -> None:
        """Publish a whole flush in order over one producer per app.

        Returns when everything went out; otherwise raises ``DispatchError``
        with every intent accounted for: ``failed`` holds the intent that could
        not be published, or those the broker refused or may not have stored
        (every intent of a batch in flight when the broker failed), and
        ``pending`` those never attempted.
        """
        from airlock_celery.batch import Batch

        ledger = DispatchLedger(intents)
        batch: Batch | None = None
        last_task: Any = None
        last_target: Any = None
        kind = LOCAL
        token = _publishing.set(True)
        try:
            for intent in intents:
                try:
                    if intent.task is not last_task:
                        last_task, last_target = intent.task, resolve(intent.task)
                        kind = kind_of(last_target)
                    if kind is TASK:
                        app = last_target._get_app()
                        if batch is not None and batch.app is not app:
                            closing, batch = batch, None
                            if not closing.close():
                                break
                        if batch is None:
                            require_broker(app, intent)
                            batch = Batch(app, ledger, confirms=self.publisher_confirms)
                        batch.publish(last_target, intent)
                        if len(batch.held) >= self.batch_size and not batch.flush():
                            break
                        continue
                    if batch is not None:
                        closing, batch = batch, None
                        if not closing.close():
                            break
                    if kind is CANVAS:
                        options = dispatch_options(intent) or {}
                        with announcing(intent):
                            last_target.apply_async(intent.args, dict(intent.kwargs), **options)
                    else:
                        with publishing(False):
                            last_target(*intent.args, **intent.kwargs)
                    ledger.dispatched(intent)
                except Exception as exc:
                    ledger.failed(intent, exc)
                    break
            if batch is not None:
                closing, batch = batch, None
                closing.close()
        finally:
            _publishing.reset(token)
            if batch is not None:  # only on BaseException (KeyboardInterrupt, ...)
                batch.abandon()
        ledger.settle()


#: What ``kind_of`` tells apart: a task (batched), a signature or canvas, a plain callable.
TASK, CANVAS, LOCAL = "task", "canvas", "local"


def kind_of(obj: object) -> str:
    """How the executor sends ``obj``: ``TASK``, ``CANVAS`` (signatures) or ``LOCAL`` (run here)."""
    from celery import Task
    from celery.canvas import Signature

    if isinstance(obj, Task):
        return TASK
    if isinstance(obj, Signature):
        return CANVAS
    return LOCAL


def resolve(task: object) -> Any:
    """The task object for an intent's task: itself, or the task a string names.

    A string must be the name of a task registered on Celery's current app
    (``airlock_celery.lookup``: the app's own task modules are imported once
    first, as a worker does at start). A string is never imported as a path
    nor run in this process.
    """
    if not isinstance(task, str):
        return task
    app = current_app()
    registered = registered_task(app, task)
    if registered is None:
        raise UsageError(
            f"{task!r} is not a task registered on the Celery app {app.main!r}. The celery"
            f" executor sends a string as the name of a task on the broker; it never imports"
            f" it or runs it in this process. Register the task on that app"
            f" (@app.task(name={task!r})), have the app import the module that defines it"
            f" (include=[...], imports, app.autodiscover_tasks()), or enqueue the task"
            f" object itself."
        )
    return registered


def require_broker(app: Any, intent: Intent) -> None:
    """Refuse an app with no broker instead of letting Celery fall back to localhost AMQP."""
    if not app.conf.broker_write_url:  # also reads CELERY_BROKER_URL and broker_url
        raise UsageError(
            f"Cannot publish {intent!r}: the Celery app {app.main!r} has no broker configured"
            f" (neither broker_url nor CELERY_BROKER_URL is set), and Celery would silently"
            f" fall back to amqp://guest@localhost//. Set one, e.g."
            f" Celery({app.main!r}, broker='redis://localhost:6379/0')."
        )


#: The executor registered as ``"celery"`` (compatibility path:
#: ``airlock.integrations.executors.celery.celery_executor``).
celery_executor = CeleryExecutor()

__all__ = ["CANVAS", "LOCAL", "TASK", "CeleryExecutor", "celery_executor", "kind_of", "resolve"]
