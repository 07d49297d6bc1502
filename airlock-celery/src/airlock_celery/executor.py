"""The ``celery`` executor: buffered intents become ``task.apply_async()`` calls.

A flush of many intents goes out through ``dispatch_many``: one producer per
Celery app, in kombu batches where the transport supports them, with every
intent accounted for if the broker fails part-way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airlock import DispatchError, UsageError
from airlock.plugins import import_object
from airlock_celery._publishing import _publishing, publishing
from airlock_celery.batch import Batch, FlushFailed

if TYPE_CHECKING:
    from airlock import Intent


class CeleryExecutor:
    """Publish Celery tasks with ``task.apply_async(args=, kwargs=, **_dispatch_options)``.

    Dispatch options (``countdown``, ``eta``, ``queue``, ``priority``,
    ``headers``, ``task_id``, ...) reach ``apply_async`` untouched. A task given
    as a string is a task name registered on Celery's current app or a dotted
    import path. A signature or canvas (``task.s(1)``, ``chain(...)``) is sent
    with its own ``apply_async``, outside the batch. Anything else runs
    in-process at flush, like the ``sync`` executor. ``batch_size`` is how many
    messages a flush sends per broker round trip where the transport can batch.

    A flush (``dispatch_many``) builds the messages of most intents with
    Celery's ``app.amqp.create_task_message`` / ``send_task_message``, doing the
    rest of ``apply_async``'s work once per task instead of once per message
    (see ``airlock_celery.batch``); the messages are the ones ``apply_async``
    sends.
    """

    message_id_option: ClassVar[str] = "task_id"
    """The dispatch option under which this executor accepts a caller-chosen message id.

    Celery's own ``task_id``: ``_dispatch_options={"task_id": "order-42"}``
    sends the task with that id instead of one Celery generates, whether the
    intent goes out alone or in a batched flush. The worker sees it as
    ``self.request.id``. The Django outbox sets it to the intent's stable id,
    so that a duplicate publish of the same intent is recognisable.
    """

    def __init__(self, *, batch_size: int = 1000) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise UsageError(f"batch_size must be a positive integer, got {batch_size!r}.")
        self.batch_size = batch_size

    def __repr__(self) -> str:
        return f"CeleryExecutor(batch_size={self.batch_size})"

    def __call__(self, intent: Intent) -> None:
        """Dispatch one intent: publish it, or run it here if it is not a Celery task."""
        target = resolve(intent.task)
        kind = kind_of(target)
        if kind is LOCAL:
            with publishing(False):
                target(*intent.args, **intent.kwargs)
            return
        if kind is TASK:
            require_broker(target._get_app(), intent)
        with publishing():
            target.apply_async(intent.args, dict(intent.kwargs), **(intent.dispatch_options or {}))

    def dispatch_many(self, intents: Sequence[Intent]) -> None:
        """Publish a whole flush in order over one producer per app.

        Returns when everything went out; otherwise raises ``DispatchError``
        whose ``failed`` holds the intent that could not be published (or,
        when the broker refused a batch, every intent of that batch: their
        delivery is uncertain) and whose ``pending`` holds the rest.
        """
        sent: list[Intent] = []
        failed: list[tuple[Intent, BaseException]] = []
        batch: Batch | None = None
        last_task: Any = None
        last_target: Any = None
        kind = LOCAL
        token = _publishing.set(True)
        try:
            for position, intent in enumerate(intents):
                try:
                    if intent.task is not last_task:
                        last_task, last_target = intent.task, resolve(intent.task)
                        kind = kind_of(last_target)
                    if kind is TASK:
                        app = last_target._get_app()
                        if batch is None or batch.app is not app:
                            if batch is not None:
                                sent += batch.close()
                                batch = None
                            require_broker(app, intent)
                            batch = Batch(app)
                        batch.publish(last_target, intent)
                        if len(batch.held) >= self.batch_size:
                            sent += batch.flush()
                    else:
                        if batch is not None:
                            sent += batch.close()
                            batch = None
                        if kind is CANVAS:
                            options = intent.dispatch_options or {}
                            last_target.apply_async(intent.args, dict(intent.kwargs), **options)
                        else:
                            with publishing(False):
                                last_target(*intent.args, **intent.kwargs)
                        sent.append(intent)
                except FlushFailed as lost:
                    batch = None
                    failed += [(lost_intent, lost.error) for lost_intent in lost.intents]
                    attempted = bool(lost.intents) and lost.intents[-1] is intent
                    rest = intents[position + 1 :] if attempted else intents[position:]
                    raise DispatchError(sent, failed, rest) from lost.error
                except Exception as exc:
                    if batch is not None:
                        try:
                            sent += batch.close()
                        except FlushFailed as lost:
                            failed += [(held, lost.error) for held in lost.intents]
                        batch = None
                    failed.append((intent, exc))
                    raise DispatchError(sent, failed, intents[position + 1 :]) from exc
            if batch is not None:
                try:
                    sent += batch.close()
                except FlushFailed as lost:
                    failed += [(held, lost.error) for held in lost.intents]
                    raise DispatchError(sent, failed, []) from lost.error
                batch = None
        finally:
            _publishing.reset(token)
            if batch is not None:  # only on BaseException (KeyboardInterrupt, ...)
                batch.abandon()


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
    """The task object for an intent's task: itself, a registered Celery name or a dotted path."""
    if not isinstance(task, str):
        return task
    from celery import current_app

    registered = current_app.tasks.get(task)
    if registered is not None:
        return registered
    return import_object(task, what="Celery task")


def require_broker(app: Any, intent: Intent) -> None:
    """Refuse an app with no broker instead of letting Celery fall back to localhost AMQP."""
    if not app.conf.broker_write_url:  # also reads CELERY_BROKER_URL and broker_url
        raise UsageError(
            f"Cannot publish {intent!r}: the Celery app {app.main!r} has no broker configured"
            f" (neither broker_url nor CELERY_BROKER_URL is set), and Celery would silently"
            f" fall back to amqp://guest@localhost//. Set one, e.g."
            f" Celery({app.main!r}, broker='redis://localhost:6379/0')."
        )


#: The executor registered as ``"celery"`` (seed path:
#: ``airlock.integrations.executors.celery.celery_executor``).
celery_executor = CeleryExecutor()

__all__ = ["CANVAS", "LOCAL", "TASK", "CeleryExecutor", "celery_executor", "kind_of", "resolve"]
