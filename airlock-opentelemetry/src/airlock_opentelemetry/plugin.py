"""The ``opentelemetry`` plugin: trace context through every intent, spans and metrics of a flush.

Enqueue (``airlock_intent_enqueued``)
    The current trace context goes into ``Intent.headers`` through the
    propagators the application configured (W3C ``traceparent``,
    ``tracestate`` and ``baggage`` by default). Nothing is added when there is
    no active span and no baggage (no SDK configured, or no trace running).
Flush (``airlock_dispatch_started`` / ``airlock_dispatch_finished``)
    A ``PRODUCER`` span ``airlock flush`` around each batch handed to an
    executor, current while it publishes (so a publish instrumentation nests
    under it), with an event for each intent that failed, and the flush size
    and duration histograms. A flush outside any span (the outbox relay) whose
    intents were all enqueued under one span continues that span's trace;
    otherwise the flush span links to each enqueuing span.
Publish (``airlock_publish_started`` / ``airlock_publish_finished``)
    Where the flush span belongs to another trace than an intent (a relay
    batch of many traces), the enqueuer's context is current while that
    intent's message is sent.
Worker (``airlock_task_started`` / ``airlock_task_finished``)
    A ``CONSUMER`` span ``process <task>`` around the task's body, child of the
    enqueuing span (or linked to it: ``airlock_opentelemetry.configure``).
    When a ``CONSUMER`` span of that same trace is already current (an
    instrumentation such as opentelemetry-instrumentation-celery opened one),
    the plugin adds none: the task already runs in the enqueuer's trace.
Counters
    ``airlock.intents.enqueued`` / ``.dispatched`` (observable counters: kept
    here, reported at each collection) and ``.dropped`` / ``.failed``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from contextvars import ContextVar
from threading import Lock
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from opentelemetry import baggage, context, metrics, propagate, trace
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

import airlock
from airlock.plugins import executor_name, task_reference
from airlock_opentelemetry.settings import task_context

if TYPE_CHECKING:
    from airlock import Intent, Scope

logger = logging.getLogger("airlock_opentelemetry")

#: The instrumentation scope name of every span and instrument.
SCOPE = "airlock_opentelemetry"
#: At most this many links on a flush span (one per distinct enqueuing span).
MAX_LINKS = 32

tracer = trace.get_tracer(SCOPE)
meter = metrics.get_meter(SCOPE)


class _Tally:
    """Counts by attributes, kept in the process and reported when the SDK collects.

    An observable counter: counting one intent is a dict update under a lock,
    instead of a trip through the SDK's aggregation on every ``enqueue()``.
    """

    def __init__(self) -> None:
        self._lock = Lock()
        self._counts: dict[object, list[Any]] = {}

    def add(self, key: object, attributes: Mapping[str, str], amount: int = 1) -> None:
        with self._lock:
            entry = self._counts.get(key)
            if entry is None:
                self._counts[key] = [amount, attributes]
            else:
                entry[0] += amount

    def observe(self, options: CallbackOptions) -> Iterable[Observation]:
        with self._lock:
            return [Observation(count, attributes) for count, attributes in self._counts.values()]


enqueued_tally = _Tally()
dispatched_tally = _Tally()
meter.create_observable_counter(
    "airlock.intents.enqueued",
    [enqueued_tally.observe],
    unit="{intent}",
    description="Intents buffered by enqueue().",
)
meter.create_observable_counter(
    "airlock.intents.dispatched",
    [dispatched_tally.observe],
    unit="{intent}",
    description="Intents an executor accepted at flush.",
)
dropped_counter = meter.create_counter(
    "airlock.intents.dropped", unit="{intent}", description="Intents a policy dropped at flush."
)
failed_counter = meter.create_counter(
    "airlock.intents.failed",
    unit="{intent}",
    description="Intents an executor failed to dispatch.",
)
flush_size = meter.create_histogram(
    "airlock.flush.size",
    unit="{intent}",
    description="Intents handed to an executor in one flush.",
)
flush_duration = meter.create_histogram(
    "airlock.flush.duration", unit="s", description="How long an executor took over one flush."
)


class _Flush:
    """A flush in progress: its span, the context token, what it needs at the end."""

    __slots__ = ("attributes", "previous", "span", "started", "token", "trace_id")

    def __init__(
        self, span: trace.Span, token: object, attributes: dict[str, str], previous: _Flush | None
    ) -> None:
        self.span = span
        self.token = token
        self.attributes = attributes
        self.previous = previous
        self.started = time.perf_counter()
        #: The flush's trace id as a ``traceparent`` spells it (32 hex digits).
        self.trace_id = format(span.get_span_context().trace_id, "032x")


class _Task:
    """A task run in progress: its span (``None`` when an instrumentation's span serves)."""

    __slots__ = ("previous", "span", "token")

    def __init__(self, span: trace.Span | None, token: object, previous: _Task | None) -> None:
        self.span = span
        self.token = token
        self.previous = previous


_flush: ContextVar[_Flush | None] = ContextVar("airlock_otel_flush", default=None)
#: The context token of the publish in progress, if it made the enqueuer's context current.
_publish: ContextVar[object | None] = ContextVar("airlock_otel_publish", default=None)
_task: ContextVar[_Task | None] = ContextVar("airlock_otel_task", default=None)

#: Executors with the name metrics use for them, held weakly (an executor may hold intents).
_executor_names: WeakKeyDictionary[Any, str] = WeakKeyDictionary()


def _executor(executor: Callable[..., Any]) -> str:
    try:
        known = _executor_names.get(executor)
    except Exception:  # unhashable, not weakly referenceable, an __eq__ that raises
        known = None
    if known is not None:
        return known
    name = executor_name(executor) or str(
        getattr(executor, "__qualname__", type(executor).__name__)
    )
    with suppress(Exception):  # named each time, as above
        _executor_names[executor] = name
    return name


def _message(error: BaseException) -> str:
    """``str(error)``, cut to 200 characters; never raises (an exception's ``__str__`` may)."""
    try:
        return str(error)[:200]
    except Exception:
        return f"<{type(error).__qualname__} whose str() failed>"


#: Tasks with their full name and metric attributes; held weakly, so that caching a
#: task's name never keeps it (or a bound method's instance) alive.
_task_names: WeakKeyDictionary[Any, tuple[str, dict[str, str]]] = WeakKeyDictionary()
#: The same for tasks given as strings, which cannot be held weakly (bounded).
_string_names: dict[str, tuple[str, dict[str, str]]] = {}


def _task_name(intent: Intent) -> str:
    return _task_attributes(intent)[0]


def _task_attributes(intent: Intent) -> tuple[str, dict[str, str]]:
    task = intent.task
    cache: Any = _string_names if isinstance(task, str) else _task_names
    try:
        known = cache.get(task)
    except Exception:  # unhashable, not weakly referenceable, an __eq__ that raises
        cache, known = None, None
    if known is not None:
        return known  # type: ignore[no-any-return]
    try:
        name = task_reference(task)
    except Exception:  # naming must never break a flush
        name = intent.name
    found = (name, {"airlock.task": name})
    if cache is not None and (cache is _task_names or len(cache) < 10_000):
        with suppress(Exception):  # named each time, as above
            cache[task] = found
    return found


#: The last context whose headers were injected, and those headers: intents enqueued
#: under the same span (and baggage) get a copy instead of a new injection.
_last_injected: tuple[context.Context | None, dict[str, str]] = (None, {})


@airlock.hookimpl
def airlock_intent_enqueued(intent: Intent) -> None:
    """Put the current trace context into the intent's headers; count the intent."""
    global _last_injected
    name, attributes = _task_attributes(intent)
    enqueued_tally.add(name, attributes)
    current = context.get_current()
    last, injected = _last_injected
    if current is last:
        carrier = dict(injected)
    else:
        carrier = {}
        if trace.get_current_span(current).get_span_context().is_valid or baggage.get_all(current):
            propagate.inject(carrier, context=current)
        _last_injected = (current, dict(carrier))
    if carrier:
        intent.headers = {**intent.headers, **carrier} if intent.headers else carrier


@airlock.hookimpl
def airlock_dispatch_started(
    intents: Sequence[Intent], executor: Callable[..., Any], scope: Scope | None
) -> None:
    """Open the flush span and make it current while the executor publishes."""
    name = _executor(executor)
    attributes = {"airlock.executor": name, "airlock.scope.kind": _scope_kind(scope)}
    parent, links = _origin(intents)
    span = tracer.start_span(
        "airlock flush",
        context=parent,
        kind=SpanKind.PRODUCER,
        links=links,
        attributes={
            **attributes,
            "messaging.system": name,
            "messaging.operation.type": "send",
            "messaging.operation.name": "flush",
            "messaging.batch.message_count": len(intents),
        },
    )
    token = context.attach(trace.set_span_in_context(span, parent))
    _flush.set(_Flush(span, token, attributes, _flush.get()))
    flush_size.record(len(intents), attributes)


@airlock.hookimpl
def airlock_dispatch_finished(intents: Sequence[Intent], error: BaseException | None) -> None:
    """Close the flush span with its outcome; record how long the flush took."""
    flush = _flush.get()
    if flush is None:
        return
    _flush.set(flush.previous)
    context.detach(flush.token)  # type: ignore[arg-type]
    outcome = "dispatched"
    span = flush.span
    if error is not None:
        failed = getattr(error, "failed", ())
        dispatched = getattr(error, "dispatched", ())
        outcome = "partial" if dispatched else "failed"
        span.set_attribute("airlock.intents.failed", len(failed))
        span.set_attribute("airlock.intents.pending", len(getattr(error, "pending", ())))
        span.set_attribute("error.type", type(error).__qualname__)
        span.set_status(Status(StatusCode.ERROR, _message(error)))
    span.set_attribute("airlock.outcome", outcome)
    span.end()
    sent = intents if error is None else getattr(error, "dispatched", ())
    counts: dict[str, int] = {}
    for intent in sent:
        name = _task_name(intent)
        counts[name] = counts.get(name, 0) + 1
    executor = flush.attributes["airlock.executor"]
    for name, count in counts.items():
        dispatched_tally.add(
            (name, executor), {"airlock.task": name, "airlock.executor": executor}, count
        )
    flush_duration.record(
        time.perf_counter() - flush.started, {**flush.attributes, "airlock.outcome": outcome}
    )


@airlock.hookimpl
def airlock_publish_started(intent: Intent) -> None:
    """Send the message in the enqueuer's trace when the flush's span is of another one.

    A flush of intents from many traces (the outbox relay's) cannot be the
    child of all of them; for the length of each message's send, the span
    that enqueued it is made current, so that a publish instrumentation
    (opentelemetry-instrumentation-celery) records the send, and propagates,
    in the enqueuer's trace. Under a flush of the enqueuer's own trace nothing
    changes: the send nests under the flush span.
    """
    headers = intent.headers
    traceparent = headers.get("traceparent") if headers else None
    if not isinstance(traceparent, str):
        return
    flush = _flush.get()
    if flush is not None and traceparent[3:35] == flush.trace_id:
        return
    enqueuer = propagate.extract(headers, context=context.Context())
    if trace.get_current_span(enqueuer).get_span_context().is_valid:
        _publish.set(context.attach(enqueuer))


@airlock.hookimpl
def airlock_publish_finished() -> None:
    """Restore the flush's context after a send made the enqueuer's current."""
    token = _publish.get()
    if token is not None:
        _publish.set(None)
        context.detach(token)  # type: ignore[arg-type]


@airlock.hookimpl
def airlock_intent_dropped(intent: Intent, policy: object) -> None:
    """Count the dropped intent; an event on the span current at the flush says which."""
    name = _task_name(intent)
    policy_name = type(policy).__name__
    dropped_counter.add(1, {"airlock.task": name, "airlock.policy": policy_name})
    trace.get_current_span().add_event(
        "airlock.intent.dropped", {"airlock.task": name, "airlock.policy": policy_name}
    )


@airlock.hookimpl
def airlock_dispatch_failed(intent: Intent, error: BaseException) -> None:
    """Count the failed intent; an event on the flush span says which and why."""
    name = _task_name(intent)
    flush = _flush.get()
    executor = flush.attributes["airlock.executor"] if flush is not None else "unknown"
    error_type = type(error).__qualname__
    failed_counter.add(
        1, {"airlock.task": name, "airlock.executor": executor, "error.type": error_type}
    )
    span = flush.span if flush is not None else trace.get_current_span()
    span.add_event(
        "airlock.intent.failed",
        {"airlock.task": name, "error.type": error_type, "exception.message": _message(error)},
    )


@airlock.hookimpl
def airlock_task_started(task_name: str, headers: Mapping[str, str]) -> None:
    """Run the task in a span whose parent (or link) is the span that enqueued it."""
    enqueuer = _extract(task_name, headers)
    current_span = trace.get_current_span()
    current = current_span.get_span_context()
    if (
        enqueuer is not None
        and current.is_valid
        and getattr(current_span, "kind", None) is SpanKind.CONSUMER
        and current.trace_id == trace.get_current_span(enqueuer).get_span_context().trace_id
    ):
        # An instrumentation (opentelemetry-instrumentation-celery) already runs the task
        # in a consumer span of the enqueuer's trace: a second one would only duplicate it.
        _task.set(_Task(None, None, _task.get()))
        return
    links = []
    parent = None  # the current context
    if enqueuer is not None:
        enqueuing = trace.get_current_span(enqueuer).get_span_context()
        if task_context() == "link":
            links.append(Link(enqueuing))
            parent = context.get_current()
            for key, value in baggage.get_all(enqueuer).items():
                parent = baggage.set_baggage(key, value, parent)
        else:
            parent = enqueuer
            if current.is_valid:  # a worker-side span of another trace: keep the way back
                links.append(Link(current))
    span = tracer.start_span(
        f"process {task_name}",
        context=parent,
        kind=SpanKind.CONSUMER,
        links=links,
        attributes={
            "airlock.task": task_name,
            "messaging.operation.type": "process",
            "messaging.operation.name": "process",
        },
    )
    token = context.attach(trace.set_span_in_context(span, parent))
    _task.set(_Task(span, token, _task.get()))


@airlock.hookimpl
def airlock_task_finished(error: BaseException | None) -> None:
    """End the task's span, with the error the task raised."""
    run = _task.get()
    if run is None:
        return
    _task.set(run.previous)
    if run.span is None:
        return
    context.detach(run.token)  # type: ignore[arg-type]
    if error is not None:
        error_type = type(error).__qualname__
        try:
            run.span.record_exception(error)
        except Exception:  # the SDK calls str(error), which may raise
            run.span.add_event("exception", {"exception.type": error_type})
        run.span.set_status(Status(StatusCode.ERROR, f"{error_type}: {_message(error)}"))
        run.span.set_attribute("error.type", error_type)
    run.span.end()


def _extract(task_name: str, headers: Mapping[str, str]) -> context.Context | None:
    """The context ``headers`` carry, or ``None`` (a malformed one is logged at DEBUG).

    ``running_task`` hands plugins only a mapping's string pairs, so a message
    that carried something else arrives here empty.
    """
    if not headers:
        return None
    extracted = propagate.extract(headers, context=context.Context())
    if trace.get_current_span(extracted).get_span_context().is_valid:
        return extracted
    if "traceparent" in headers:
        logger.debug(
            "Task %s: ignored a malformed trace context %r; the task runs in a new trace.",
            task_name,
            headers.get("traceparent"),
        )
    return extracted if baggage.get_all(extracted) else None


def _origin(intents: Sequence[Intent]) -> tuple[context.Context | None, list[Link]]:
    """The flush span's parent context and links.

    Under an active span the flush is part of that span's work (its parent);
    outside of any (the relay), it continues the trace of the one span that
    enqueued all its intents, if one did. Either way it links to the other
    enqueuing spans.
    """
    seen: dict[tuple[int, int], trace.SpanContext] = {}
    parsed: set[str] = set()
    first: context.Context | None = None
    for intent in intents:
        headers = intent.headers
        traceparent = headers.get("traceparent") if headers else None
        if traceparent is None or traceparent in parsed:
            continue
        parsed.add(traceparent)
        extracted = propagate.extract(headers, context=context.Context())
        span_context = trace.get_current_span(extracted).get_span_context()
        if not span_context.is_valid:
            continue
        key = (span_context.trace_id, span_context.span_id)
        if key not in seen and len(seen) < MAX_LINKS:
            seen[key] = span_context
            if first is None:
                first = extracted
    current = trace.get_current_span().get_span_context()
    if not current.is_valid and len(seen) == 1:
        return first, []
    return None, [Link(found) for found in seen.values() if found.span_id != current.span_id]


def _scope_kind(scope: Scope | None) -> str:
    """The class name of the flushing scope; ``"none"`` for a dispatch outside a scope."""
    return "none" if scope is None else type(scope).__name__
