"""Celery: the task's span on a real worker joins the trace of the span that enqueued it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CELERY_DB, WORKER_TIMEOUT, Worker, python, worker_env
from opentelemetry import trace
from opentelemetry.instrumentation.celery import CeleryInstrumentor
from otel_celery_app import QUEUE, record
from spanfile import wait_for

import airlock
from airlock.plugins import dispatch
from airlock_celery import celery_executor


def start_celery(start_worker: Callable[..., Worker], span_file: Path, **env: str) -> Worker:
    command = [
        python(), "-m", "celery", "-A", "otel_celery_app:app", "worker", "-P", "solo",
        "-Q", QUEUE, "-l", "WARNING", "--without-gossip", "--without-mingle",
        "--without-heartbeat",
    ]  # fmt: skip
    return start_worker(command, worker_env(span_file, **env))


@pytest.fixture
def broker(flushed_redis: Callable[[int], Any]) -> Any:
    return flushed_redis(CELERY_DB)


@pytest.fixture
def instrumented() -> Iterator[None]:
    """opentelemetry-instrumentation-celery in the test process (the publishing side)."""
    instrumentor = CeleryInstrumentor()
    instrumentor.instrument()
    yield
    instrumentor.uninstrument()


def by_name(spans: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [span for span in spans if span["name"] == name]


def hex_ids(span: Any) -> tuple[str, str]:
    context = span.get_span_context()
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def test_the_task_span_is_a_child_of_the_enqueuing_span(
    broker: Any, start_worker: Callable[..., Worker], span_file: Path, tracer: trace.Tracer
) -> None:
    worker = start_celery(start_worker, span_file)
    with tracer.start_as_current_span("request") as request, airlock.scope(executor="celery"):
        airlock.enqueue(record, "celery-parent")
    trace_id, request_id = hex_ids(request)

    spans = wait_for(span_file, "process airlock_otel.record", WORKER_TIMEOUT)
    [task] = by_name(spans, "process airlock_otel.record")
    [inside] = by_name(spans, "inside")
    assert task["kind"] == "CONSUMER", worker.output()
    assert task["trace_id"] == trace_id
    assert task["parent_id"] == request_id
    assert inside["trace_id"] == trace_id
    assert inside["parent_id"] == task["span_id"]


def test_a_flush_after_the_span_ended_still_carries_the_enqueuers_context(
    broker: Any, start_worker: Callable[..., Worker], span_file: Path, tracer: trace.Tracer
) -> None:
    """A deferred publish (here: the scope outlives the span) sends the context of the enqueue."""
    start_celery(start_worker, span_file)
    with airlock.scope(executor="celery"):
        with tracer.start_as_current_span("enqueuer") as enqueuer:
            airlock.enqueue(record, "celery-deferred")
        with tracer.start_as_current_span("unrelated"):
            pass
    trace_id, enqueuer_id = hex_ids(enqueuer)

    spans = wait_for(span_file, "process airlock_otel.record", WORKER_TIMEOUT)
    [task] = by_name(spans, "process airlock_otel.record")
    assert (task["trace_id"], task["parent_id"]) == (trace_id, enqueuer_id)


def test_with_the_celery_instrumentation_one_consumer_span_and_one_unbroken_chain(
    broker: Any,
    start_worker: Callable[..., Worker],
    span_file: Path,
    tracer: trace.Tracer,
    spans: Callable[[], list[Any]],
    instrumented: None,
) -> None:
    start_celery(start_worker, span_file, AIRLOCK_OTEL_CELERY_INSTRUMENT="1")
    with tracer.start_as_current_span("request") as request, airlock.scope(executor="celery"):
        airlock.enqueue(record, "celery-instrumented")
    trace_id, request_id = hex_ids(request)
    local = {span.name: span for span in spans()}
    flush, publish = local["airlock flush"], local["apply_async/airlock_otel.record"]
    assert flush.parent is not None
    assert flush.parent.span_id == int(request_id, 16)
    assert publish.parent is not None
    assert publish.parent.span_id == flush.context.span_id

    worker_spans = wait_for(span_file, "run/airlock_otel.record", WORKER_TIMEOUT)
    consumers = [span for span in worker_spans if span["kind"] == "CONSUMER"]
    assert [span["name"] for span in consumers] == ["run/airlock_otel.record"]
    [run] = consumers
    [inside] = by_name(worker_spans, "inside")
    assert run["trace_id"] == trace_id
    assert run["parent_id"] == format(publish.context.span_id, "016x")
    assert inside["parent_id"] == run["span_id"]


def test_with_the_instrumentation_a_batch_of_many_traces_sends_each_in_its_own(
    broker: Any,
    start_worker: Callable[..., Worker],
    span_file: Path,
    tracer: trace.Tracer,
    spans: Callable[[], list[Any]],
    instrumented: None,
) -> None:
    """What the relay does: one batch of intents from two requests, sent outside any span."""
    start_celery(start_worker, span_file, AIRLOCK_OTEL_CELERY_INSTRUMENT="1")
    kept: list[airlock.Intent] = []
    requests = []
    for label in ("first", "second"):
        with (
            tracer.start_as_current_span("request") as request,
            airlock.scope(executor=kept.append),
        ):
            airlock.enqueue(record, label)
        requests.append(hex_ids(request))
    dispatch(kept, celery_executor)
    publishes = [span for span in spans() if span.name == "apply_async/airlock_otel.record"]
    assert sorted((hex_ids(s)[0], format(s.parent.span_id, "016x")) for s in publishes) == sorted(
        requests
    )

    worker_spans = wait_for(span_file, "run/airlock_otel.record", WORKER_TIMEOUT, count=2)
    consumers = [span for span in worker_spans if span["kind"] == "CONSUMER"]
    assert [span["name"] for span in consumers] == ["run/airlock_otel.record"] * 2
    assert sorted(span["trace_id"] for span in consumers) == sorted(t for t, _ in requests)
