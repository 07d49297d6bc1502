"""One app's producer for the length of a flush, batched where kombu can batch.

With kombu >= 5.7 the producer's ``batch()`` lets the transport group publishes
(on Redis: one pipeline per chunk instead of one round trip per message);
elsewhere every publish goes out at once over the same producer.

Each message is built and sent by Celery itself: ``app.amqp.create_task_message``
and ``app.amqp.send_task_message`` (so the ``before_task_publish`` and
``after_task_publish`` signals fire as usual), with the steps of
``Task.apply_async()`` / ``Celery.send_task()`` around them done the way Celery
does them but with what does not change between messages worked out once per
flush (execution options, the parent task, the reply-to id) or once per queue
(its declaration). Intents whose task or options need more of Celery than that
(``countdown``, ``eta``, ``expires``, ``link``, a task that overrides
``apply_async``, an app in eager mode, ...) are sent with
``task.apply_async(..., producer=producer)`` itself. Either way a worker
receives exactly what ``.apply_async()`` would have sent.
"""

from __future__ import annotations

from contextlib import ExitStack, suppress
from typing import TYPE_CHECKING, Any

from airlock.plugins import publishing as announcing
from airlock_celery.arguments import argument_check
from airlock_celery.confirms import Confirms, supports_confirms
from airlock_celery.connections import acquire_producer, flush_pool
from airlock_celery.errors import DeliveryUncertain
from airlock_celery.headers import dispatch_options

if TYPE_CHECKING:
    from airlock import Intent
    from airlock.plugins import DispatchLedger

#: kombu flushes a batch by itself once it holds this many broker commands; the
#: batch flushes earlier, by intent count, so it always knows what went out.
_NEVER_AUTOFLUSH = 2**31

#: Dispatch options the prepared path sends itself: each one goes, as with
#: ``apply_async()``, either to Celery's router or straight on to
#: ``send_task_message()``. Any other option sends the intent through
#: ``apply_async()`` itself.
PREPARED_OPTIONS = frozenset(
    {
        "task_id",
        "queue",
        "exchange",
        "routing_key",
        "priority",
        "headers",
        "serializer",
        "compression",
        "delivery_mode",
    }
)


class Batch:
    """Publishes intents of one Celery app over one producer until ``close()``.

    ``held`` are the intents published since the last ``flush()``: in a kombu
    batch they may still wait in the pipeline, on RabbitMQ their confirms may
    not have come. ``flush()`` and ``close()`` record each of them in the
    ledger, dispatched or failed, and never raise.
    """

    def __init__(self, app: Any, ledger: DispatchLedger, *, confirms: bool) -> None:
        from kombu.exceptions import OperationalError

        self.app = app
        self.ledger = ledger
        self.held: list[Intent] = []
        self._stack = ExitStack()
        self._batch: Any = None
        self._confirms: Confirms | None = None
        self._tasks: dict[Any, PreparedTask | None] = {}
        try:
            self.producer = self._stack.enter_context(acquire_producer(app))
            connection = self.producer.connection
            self._broker_errors = (
                OperationalError,
                *connection.connection_errors,
                *connection.channel_errors,
            )
            # An app in eager mode runs its tasks here and publishes nothing to confirm.
            if confirms and not app.conf.task_always_eager and supports_confirms(connection):
                conf = app.conf
                retry_policy = conf.task_publish_retry_policy if conf.task_publish_retry else None
                self._confirms = Confirms.begin(connection, flush_pool(app).wait, retry_policy)
                self.producer = self._confirms.producer
            else:
                batch = getattr(self.producer, "batch", None)
                if batch is not None:
                    self._batch = self._stack.enter_context(batch(max_size=_NEVER_AUTOFLUSH))
            self._flush_state = FlushState(
                app,
                self.producer,
                batched=hasattr(self.producer, "batch"),
                deferred=self._deferred(),
                mandatory=self._confirms is not None,
            )
        except BaseException:
            self._stack.close()
            raise

    def _deferred(self) -> bool:
        """Whether publishes only queue commands until the batch flushes (Redis pipelines)."""
        return self._batch is not None and bool(
            getattr(self.producer, "supports_batch_publish", False)
        )

    def publish(self, task: Any, intent: Intent) -> None:
        """Publish one intent over the shared producer, as ``task.apply_async()`` would.

        A broker error (the message may have reached the broker) is raised as
        ``DeliveryUncertain``; any other error means it was not sent.
        """
        try:
            prepared = self._tasks[task]
        except KeyError:
            prepared = self._tasks[task] = PreparedTask.for_task(task, self._flush_state)
        if self._confirms is not None:
            self._confirms.current = intent
        options = dispatch_options(intent)
        try:
            with announcing(intent):
                if prepared is not None and (not options or PREPARED_OPTIONS.issuperset(options)):
                    prepared.publish(intent.args, dict(intent.kwargs), options)
                else:
                    options = {"producer": self.producer, **(options or {})}
                    if self._flush_state.mandatory and _unset(task, options, "mandatory"):
                        options["mandatory"] = True
                    task.apply_async(intent.args, dict(intent.kwargs), **options)
        except self._broker_errors as exc:
            raise uncertain(exc, "while it was being published") from exc
        self.held.append(intent)

    def flush(self) -> bool:
        """Record what the batch holds in the ledger; return whether all of it went out.

        On a failure the batch is abandoned (its producer goes back to the
        pool, its connection dropped where its state is unknown).
        """
        held, self.held = self.held, []
        if not held:
            return True
        if self._confirms is not None:
            try:
                self._confirms.wait()
            except Exception as exc:
                self._confirms.settle(held, self.ledger, exc)
                self.abandon(exc)
                return False
            return self._confirms.settle(held, self.ledger)
        if self._batch is not None:
            try:
                self._batch.flush()
            except Exception as exc:
                self.ledger.failed(
                    held, uncertain(exc, f"with the {len(held)} messages of its batch")
                )
                self.abandon(exc)
                return False
        self.ledger.dispatched(*held)
        return True

    def close(self) -> bool:
        """Flush, then release the producer to the app's pool; return whether all went out."""
        if not self.flush():
            return False
        try:
            self._stack.close()
        except Exception as exc:  # everything is recorded: only the connection is in doubt
            self.abandon(exc)
        return True

    def abandon(self, error: BaseException | None = None) -> None:
        """Drop what the batch still holds, drop a connection in doubt, release the producer."""
        if error is None:
            error = RuntimeError("airlock flush abandoned")
        if self._confirms is not None:
            # A read or write may have stopped half-way: the connection cannot be reused.
            self._confirms.discard()
            with suppress(Exception):
                self._confirms.connection.collect()
        # Already failing: a second error from the teardown must not hide the first.
        with suppress(Exception):
            self._stack.__exit__(type(error), error, error.__traceback__)


def uncertain(error: BaseException, when: str) -> DeliveryUncertain:
    """The failure of a message the broker may have stored: ``error`` struck ``when``."""
    failure = DeliveryUncertain(
        f"The broker failed {when} ({type(error).__name__}: {error}); it may or may"
        f" not have stored it."
    )
    failure.__cause__ = error
    return failure


def _unset(task: Any, options: dict[str, Any], name: str) -> bool:
    """Whether neither the call's options nor the task itself choose ``name``."""
    return options.get(name) is None and getattr(task, name, None) is None


class FlushState:
    """What ``Celery.send_task()`` looks up for every message but is fixed for a flush.

    The app's router, message factory and sender, its queues, the reply-to id
    of this thread, whether to send ``task-sent`` events, and the worker task
    the flush runs in (it becomes every message's parent).
    """

    def __init__(
        self, app: Any, producer: Any, *, batched: bool, deferred: bool, mandatory: bool
    ) -> None:
        from kombu.common import Broadcast

        amqp = app.amqp
        conf = app.conf
        self.app = app
        self.producer = producer
        self.bind_queues = batched
        self.deferred = deferred
        #: Publish with ``mandatory`` where neither the call nor the task chose it,
        #: so that RabbitMQ returns a message it cannot route (under confirms).
        self.mandatory = mandatory
        self.eager = bool(conf.task_always_eager)
        self.router = amqp.router
        self.fixed_route = not self.router.routes
        self.create_message = amqp.create_task_message
        self.send_message = amqp.send_task_message
        self.queues = amqp.queues
        self.default_queue = amqp.default_queue
        self.reply_to = app.thread_oid
        self.sent_event = conf.task_send_sent_event
        #: ``kwargsrepr`` for calls without keyword arguments: Celery's own
        #: ``saferepr({})`` (always ``{}``), computed once instead of per message.
        self.repr_of_no_kwargs: dict[str, str] = {}
        if conf.task_protocol == 2:
            from celery.utils.saferepr import saferepr

            self.repr_of_no_kwargs = {"kwargsrepr": saferepr({}, amqp.kwargsrepr_maxsize)}
        self.broadcast = Broadcast
        self.parent = parent = app.current_worker_task
        self.root_id: str | None = None
        self.parent_id: str | None = None
        self.inherit_priority = False
        self.parent_priority: Any = None
        if parent:
            request = parent.request
            self.root_id = request.root_id or request.id
            self.parent_id = request.id
            if conf.task_inherit_parent_priority:
                self.inherit_priority = True
                self.parent_priority = request.delivery_info.get("priority")
        #: Each destination queue, bound to the producer's channel once per flush.
        self.bound: dict[Any, BoundQueue] = {}

    def bound_queue(self, options: dict[str, Any]) -> BoundQueue | None:
        """The queue ``send_task_message()`` would declare for ``options``, bound once.

        Celery declares the destination queue with every message
        (``declare=[queue]``), and kombu makes a copy of the queue bound to the
        channel for each of them, only to find it declared already; here the
        same queue is bound once per flush. Only with kombu >= 5.7 (the one with
        ``Producer.batch()``): where a publish reconnects and retries, its
        ``maybe_declare`` re-binds a queue bound to the lost channel. Returns
        None where Celery declares nothing, or is left to declare.
        """
        if not self.bind_queues:
            return None
        queue = options.get("queue")
        if queue is None:
            if options.get("exchange") is not None:
                return None
            queue = self.default_queue
        elif isinstance(queue, str):
            queue = self.queues[queue]
        if not queue or isinstance(queue, self.broadcast):
            return None
        try:
            return self.bound[queue]
        except KeyError:
            bound = self.bound[queue] = BoundQueue(queue.bind(self.producer.channel))
            return bound


class BoundQueue:
    """A destination queue bound to the flush's channel, and whether it is declared there."""

    __slots__ = ("declared", "queue")

    def __init__(self, queue: Any) -> None:
        self.queue = queue
        self.declared = False


class PreparedTask:
    """``task.apply_async()`` for one task, with per-task work done once.

    The steps are Celery's (``Task.apply_async`` then ``Celery.send_task``), in
    Celery's order, for the options in ``PREPARED_OPTIONS``: argument check,
    execution options, routing, parent and root ids, the message, the backend's
    ``on_task_call``, ``send_task_message``, and the result added to the parent's
    children.
    """

    def __init__(self, task: Any, state: FlushState) -> None:
        self.task = task
        self.state = state
        self.name = task.name
        self.check = argument_check(task)
        # What apply_async() merges under every call's options (the call's own
        # options never hold these keys) and send_task() takes back out of them.
        options = dict(task._get_exec_options())  # non-public Celery API, stable since 4.x
        options.setdefault("ignore_result", task.ignore_result)
        self.ignore_result = options.pop("ignore_result")
        self.time_limit = options.pop("time_limit", None)
        self.soft_time_limit = options.pop("soft_time_limit", None)
        options.pop("expires", None)  # None here: a task with expires uses apply_async()
        self.exec_options = options
        #: Those options routed, for calls with no options of their own, where
        #: the app has no task_routes (so the route cannot depend on the call).
        self.routed: dict[str, Any] | None = None

    @classmethod
    def for_task(cls, task: Any, state: FlushState) -> PreparedTask | None:
        """The prepared task, or None where only ``task.apply_async()`` itself will do."""
        from celery import Celery, Task
        from celery.local import Proxy

        if issubclass(type(task), Proxy):  # a task declared before the app was finalized
            task = task._get_current_object()
        kind = type(task)
        if (
            state.eager
            # Task.apply_async is also the global intercept's, which publishes
            # with Celery's own while the executor flushes.
            or kind.apply_async is not Task.apply_async
            or type(task._get_app()).send_task is not Celery.send_task
            or kind.shadow_name is not Task.shadow_name
            or getattr(task, "__v2_compat__", False)
            or getattr(task, "_dump_pydantic_arguments", None) is not None
            or (task.soft_time_limit and task.time_limit and task.soft_time_limit > task.time_limit)
            or task.expires is not None
        ):
            return None
        return cls(task, state)

    def publish(self, args: Any, kwargs: dict[str, Any], dispatch_options: Any) -> None:
        """Build and send one message, exactly as ``apply_async(args, kwargs, **options)``."""
        state = self.state
        if self.check is not None:
            self.check(*(args or ()), **(kwargs or {}))
        task_id = None
        if dispatch_options:
            options = {**self.exec_options, **dispatch_options}
            task_id = options.pop("task_id", None)
            options = state.router.route(options, self.name, args, kwargs, self.task)
        elif self.routed is not None:
            options = dict(self.routed)
        else:
            options = state.router.route(
                dict(self.exec_options), self.name, args, kwargs, self.task
            )
            if state.fixed_route:
                self.routed = dict(options)
        if not task_id:
            from celery.utils import uuid

            task_id = uuid()
        if state.inherit_priority:
            options.setdefault("priority", state.parent_priority)
        if state.mandatory and options.get("mandatory") is None:
            options["mandatory"] = True
        ignore_result = self.ignore_result
        message = state.create_message(
            task_id, self.name, args, kwargs,
            None, None, None, None, None, 0, None, None, None,  # countdown ... errbacks
            state.reply_to, self.time_limit, self.soft_time_limit, state.sent_event,
            state.root_id, state.parent_id, None, None,  # shadow, chain
            ignore_result=ignore_result,
            **(state.repr_of_no_kwargs if not kwargs else {}),
            **options,
        )  # fmt: skip
        producer = state.producer
        if not ignore_result:
            state.app.backend.on_task_call(producer, task_id)
        bound = state.bound_queue(options)
        if bound is None:
            state.send_message(producer, self.name, message, **options)
        elif bound.declared and state.deferred:
            # Declared on this connection already, and the publish only queues a
            # command until the batch flushes: Celery's retrying wrapper
            # (retry=True) would have nothing to retry.
            state.send_message(
                producer, self.name, message, **options, declare=[bound.queue], retry=False
            )
        else:
            state.send_message(producer, self.name, message, **options, declare=[bound.queue])
            bound.declared = bool(bound.queue.can_cache_declaration)
        if state.parent:
            result = self.task.AsyncResult(task_id)
            result.ignored = ignore_result
            state.parent.add_trail(result)
