"""The plugin in one process: headers at enqueue, flush spans and metrics, the worker hooks."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry import baggage, context, trace
from opentelemetry.trace import SpanKind, StatusCode

import airlock
import airlock_opentelemetry
from airlock.plugins import dispatch, running_task


class Recorder:
    """An executor that keeps what it was given; fails the intents of task ``fail``."""

    def __init__(self) -> None:
        self.sent: list[airlock.Intent] = []

    def __call__(self, intent: airlock.Intent) -> None:
        if intent.name == "fail":
            raise ConnectionError("broker down")
        self.sent.append(intent)


def work(n: int) -> None:
    """A task (never run: the executors here only record)."""


def fail(n: int) -> None:
    """A task the Recorder refuses."""


def hex_ids(span: Any) -> tuple[str, str]:
    ids = span.get_span_context()
    return format(ids.trace_id, "032x"), format(ids.span_id, "016x")


def test_enqueue_captures_traceparent_and_baggage(tracer: trace.Tracer) -> None:
    recorder = Recorder()
    token = context.attach(baggage.set_baggage("tenant", "acme"))
    try:
        with tracer.start_as_current_span("request") as request, airlock.scope(executor=recorder):
            airlock.enqueue(work, 1)
    finally:
        context.detach(token)
    trace_id, span_id = hex_ids(request)
    [intent] = recorder.sent
    assert intent.headers is not None
    assert intent.headers["traceparent"].startswith(f"00-{trace_id}-{span_id}-")
    assert intent.headers["baggage"] == "tenant=acme"


def test_no_active_span_adds_no_headers() -> None:
    recorder = Recorder()
    with airlock.scope(executor=recorder):
        airlock.enqueue(work, 1)
    assert recorder.sent[0].headers is None


def test_headers_set_by_the_caller_are_kept(tracer: trace.Tracer) -> None:
    recorder = Recorder()
    with tracer.start_as_current_span("request"), airlock.scope(executor=recorder) as scope:
        airlock.enqueue(work, 1)
        scope.intents[0].headers = {"x-request": "42"}
    [intent] = recorder.sent
    assert intent.headers is not None
    assert intent.headers["x-request"] == "42"


def enqueue_three(recorder: Recorder) -> None:
    with airlock.scope(executor=recorder, on_dispatch_error="continue"):
        airlock.enqueue(work, 1)
        airlock.enqueue(fail, 2)
        airlock.enqueue(work, 3)


def test_flush_span_and_metrics(
    tracer: trace.Tracer,
    spans: Callable[[], list[Any]],
    collect: Callable[[], dict[str, list[tuple[dict[str, Any], Any]]]],
) -> None:
    task, failing = f"{__name__}.work", f"{__name__}.fail"

    def totals() -> dict[str, Any]:
        found = collect()

        def total(name: str, **wanted: str) -> Any:
            return sum(
                getattr(value, "count", value)
                for attributes, value in found.get(name, [])
                if all(attributes.get(k.replace("_", ".")) == v for k, v in wanted.items())
            )

        return {
            "enqueued": total("airlock.intents.enqueued", airlock_task=task),
            "dispatched": total("airlock.intents.dispatched", airlock_task=task),
            "failed": total("airlock.intents.failed", airlock_task=failing),
            "sized": total("airlock.flush.size", airlock_executor="Recorder"),
            "timed": total(
                "airlock.flush.duration", airlock_executor="Recorder", airlock_outcome="partial"
            ),
        }

    before = totals()
    recorder = Recorder()
    with (
        tracer.start_as_current_span("request") as request,
        pytest.raises(airlock.DispatchError),
    ):
        enqueue_three(recorder)
    after = totals()
    [flush] = [span for span in spans() if span.name == "airlock flush"]
    assert flush.kind is SpanKind.PRODUCER
    assert flush.parent is not None
    assert flush.parent.span_id == request.get_span_context().span_id
    attributes = dict(flush.attributes or {})
    assert attributes["airlock.scope.kind"] == "Scope"
    assert attributes["airlock.executor"] == "Recorder"
    assert attributes["messaging.batch.message_count"] == 3
    assert attributes["airlock.outcome"] == "partial"
    assert attributes["airlock.intents.failed"] == 1
    assert flush.status.status_code is StatusCode.ERROR
    [event] = flush.events
    assert event.name == "airlock.intent.failed"
    assert dict(event.attributes or {})["airlock.task"] == failing
    assert dict(event.attributes or {})["error.type"] == "ConnectionError"
    # Counters are cumulative; the histograms' points count flushes since the last
    # collection (SDK 1.20) or ever (later SDKs): either way, at least this one.
    assert {k: after[k] - before[k] for k in ("enqueued", "dispatched", "failed")} == {
        "enqueued": 2,
        "dispatched": 2,
        "failed": 1,
    }
    assert after["sized"] >= 1
    assert after["timed"] >= 1


def test_a_dropped_intent_is_counted_and_an_event_on_the_span_of_the_flush(
    tracer: trace.Tracer,
    spans: Callable[[], list[Any]],
    collect: Callable[[], dict[str, list[tuple[dict[str, Any], Any]]]],
) -> None:
    recorder = Recorder()
    blocked = airlock.scope(executor=recorder, policy=airlock.BlockTasks({"work"}))
    with tracer.start_as_current_span("request"), blocked:
        airlock.enqueue(work, 1)
    [request] = [span for span in spans() if span.name == "request"]
    assert [event.name for event in request.events] == ["airlock.intent.dropped"]
    dropped = collect()["airlock.intents.dropped"]
    assert any(a["airlock.policy"] == "BlockTasks" for a, _ in dropped)
    assert recorder.sent == []


def test_a_relay_flush_outside_any_span_continues_the_enqueuers_trace(
    tracer: trace.Tracer, spans: Callable[[], list[Any]]
) -> None:
    recorder = Recorder()
    with tracer.start_as_current_span("request") as request, airlock.scope(executor=recorder):
        airlock.enqueue(work, 1)
    stored = recorder.sent[0]
    exported = len(spans())
    # What the relay does an hour later: intents rebuilt from rows, their headers kept.
    dispatch([airlock.Intent(work, (1,), headers=stored.headers)], recorder)
    [flush] = [span for span in spans()[exported:] if span.name == "airlock flush"]
    assert flush.context.trace_id == request.get_span_context().trace_id
    assert flush.parent is not None
    assert flush.parent.span_id == request.get_span_context().span_id
    assert dict(flush.attributes or {})["airlock.scope.kind"] == "none"


def test_a_flush_of_many_traces_links_to_each_enqueuing_span(
    tracer: trace.Tracer, spans: Callable[[], list[Any]]
) -> None:
    recorder = Recorder()
    for _ in range(2):
        with tracer.start_as_current_span("request"), airlock.scope(executor=recorder):
            airlock.enqueue(work, 1)
    requests = [span for span in spans() if span.name == "request"]
    dispatch([airlock.Intent(work, (1,), headers=i.headers) for i in recorder.sent], recorder)
    [flush] = [span for span in spans() if span.name == "airlock flush" and span.links]
    assert flush.parent is None
    assert {link.context.span_id for link in flush.links} == {
        span.context.span_id for span in requests
    }


def test_running_task_parent_and_link(tracer: trace.Tracer, spans: Callable[[], list[Any]]) -> None:
    recorder = Recorder()
    with tracer.start_as_current_span("request") as request, airlock.scope(executor=recorder):
        airlock.enqueue(work, 1)
    headers = recorder.sent[0].headers
    with running_task("tasks.work", headers):
        inside_parent = trace.get_current_span().get_span_context()
    airlock_opentelemetry.configure(task_context="link")
    with running_task("tasks.work", headers):
        inside_link = trace.get_current_span().get_span_context()
    enqueuer = request.get_span_context()
    parented, linked = [span for span in spans() if span.name == "process tasks.work"]
    assert inside_parent.trace_id == enqueuer.trace_id == parented.context.trace_id
    assert parented.parent is not None
    assert parented.parent.span_id == enqueuer.span_id
    assert parented.kind is SpanKind.CONSUMER
    assert inside_link.trace_id != enqueuer.trace_id
    assert linked.parent is None
    assert [link.context.span_id for link in linked.links] == [enqueuer.span_id]


def test_a_task_that_raises_ends_its_span_with_the_error(spans: Callable[[], list[Any]]) -> None:
    with pytest.raises(KeyError), running_task("tasks.broken", {}):
        raise KeyError("gone")
    [span] = [span for span in spans() if span.name == "process tasks.broken"]
    assert span.status.status_code is StatusCode.ERROR
    assert dict(span.attributes or {})["error.type"] == "KeyError"
    assert [event.name for event in span.events] == ["exception"]


def test_a_malformed_traceparent_is_ignored_with_a_debug_log(
    spans: Callable[[], list[Any]], caplog: pytest.LogCaptureFixture
) -> None:
    ran = []
    with (
        caplog.at_level(logging.DEBUG, logger="airlock_opentelemetry"),
        running_task("tasks.work", {"traceparent": "00-garbage-01"}),
    ):
        ran.append(trace.get_current_span().get_span_context().is_valid)
    assert ran == [True]
    [span] = [span for span in spans() if span.name == "process tasks.work"]
    assert span.parent is None
    assert "ignored a malformed trace context '00-garbage-01'" in caplog.text


def test_configure_refuses_an_unknown_choice() -> None:
    with pytest.raises(airlock.UsageError, match=r"'parent'.*'link'.*got 'child'"):
        airlock_opentelemetry.configure(task_context="child")


def test_without_an_sdk_every_hook_is_a_no_op() -> None:
    script = textwrap.dedent(
        """
        import airlock
        from airlock.plugins import running_task, names

        sent = []
        def work(n):
            pass
        with airlock.scope(executor=sent.append):
            airlock.enqueue(work, 1)
        with running_task("tasks.work", {"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"}):
            pass
        import airlock.plugins
        assert "opentelemetry" in [p.name for p in airlock.plugins.describe()], "not loaded"
        print(sent[0].headers)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "None"
