"""Dramatiq and RQ: a task's span on a real worker joins the trace of the enqueuing span."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import otel_dramatiq_app
import otel_rq_jobs
import pytest
import rq
from conftest import DRAMATIQ_DB, RQ_DB, WORKER_TIMEOUT, Worker, db_url, python, worker_env
from opentelemetry import trace
from spanfile import read, wait_for

import airlock
import airlock_rq


def hex_ids(span: Any) -> tuple[str, str]:
    context = span.get_span_context()
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def only(spans: list[dict[str, Any]], name: str) -> dict[str, Any]:
    [found] = [span for span in spans if span["name"] == name]
    return found


def test_dramatiq_task_span_is_a_child_of_the_enqueuing_span(
    flushed_redis: Callable[[int], Any],
    start_worker: Callable[..., Worker],
    span_file: Path,
    tracer: trace.Tracer,
) -> None:
    flushed_redis(DRAMATIQ_DB)
    command = [
        python(),
        "-m",
        "dramatiq",
        "otel_dramatiq_app",
        "--processes",
        "1",
        "--threads",
        "1",
    ]
    worker = start_worker(command, worker_env(span_file))
    with tracer.start_as_current_span("request") as request, airlock.scope(executor="dramatiq"):
        airlock.enqueue(otel_dramatiq_app.record, "dramatiq-parent")
        airlock.enqueue(otel_dramatiq_app.record, "fail")
    trace_id, request_id = hex_ids(request)

    spans = wait_for(span_file, "process record", WORKER_TIMEOUT, count=2)
    tasks = [span for span in spans if span["name"] == "process record"]
    assert len(tasks) == 2, worker.output()
    assert {(span["trace_id"], span["parent_id"]) for span in tasks} == {(trace_id, request_id)}
    assert sorted(span["status"] for span in tasks) == ["ERROR", "UNSET"]
    for inside in (span for span in spans if span["name"] == "inside"):
        assert inside["parent_id"] in {task["span_id"] for task in tasks}


@pytest.fixture
def rq_connection(flushed_redis: Callable[[int], Any]) -> Any:
    connection = flushed_redis(RQ_DB)
    airlock_rq.configure(connection=connection)
    yield connection
    airlock_rq.reset_configuration()


def run_rq(span_file: Path) -> None:
    import subprocess

    command = [
        python(), "-m", "rq.cli", "worker", "--burst", "--url", db_url(RQ_DB),
        "--job-class", "airlock_rq.AirlockJob", "--worker-class", "otel_rq_jobs.BurstWorker",
        "--logging_level", "WARNING",
        otel_rq_jobs.QUEUE,
    ]  # fmt: skip
    done = subprocess.run(
        command,
        cwd=Path(__file__).parent,
        env=worker_env(span_file),
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_rq_job_span_is_a_child_of_the_enqueuing_span(
    rq_connection: Any, span_file: Path, tracer: trace.Tracer
) -> None:
    with tracer.start_as_current_span("request") as request, airlock.scope(executor="rq"):
        airlock.enqueue(
            otel_rq_jobs.record, "rq-parent", _dispatch_options={"queue": otel_rq_jobs.QUEUE}
        )
    trace_id, request_id = hex_ids(request)

    run_rq(span_file)
    spans = read(span_file)
    task = only(spans, "process otel_rq_jobs.record")
    assert (task["trace_id"], task["parent_id"]) == (trace_id, request_id)
    assert only(spans, "inside")["parent_id"] == task["span_id"]


def test_a_malformed_traceparent_in_a_job_is_ignored_and_the_job_runs(
    rq_connection: Any, span_file: Path
) -> None:
    queue = rq.Queue(otel_rq_jobs.QUEUE, connection=rq_connection)
    queue.enqueue(
        otel_rq_jobs.record,
        "rq-malformed",
        meta={"airlock_headers": {"traceparent": "00-not-a-trace-01"}},
    )
    queue.enqueue(otel_rq_jobs.record, "rq-not-a-mapping", meta={"airlock_headers": 42})

    run_rq(span_file)
    ran = Path(str(span_file) + ".ran").read_text().split()
    assert ran == ["rq-malformed", "rq-not-a-mapping"]
    tasks = [span for span in read(span_file) if span["name"] == "process otel_rq_jobs.record"]
    assert len(tasks) == 2
    assert all(span["parent_id"] is None for span in tasks)  # each a trace of its own
