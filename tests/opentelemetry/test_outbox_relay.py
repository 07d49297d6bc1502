"""The outbox: a row written in the request's transaction, published later by the relay, runs
on a real Celery worker in the trace of the span that enqueued it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import CELERY_DB, HERE, WORKER_TIMEOUT, Worker, worker_env
from spanfile import wait_for
from test_celery_worker import start_celery

#: The enqueuing process: the request writes the row (FAST_PATH off: only a relay
#: publishes), then, outside any span, the relay publishes it.
ENQUEUER = textwrap.dedent(
    """
    import json, sys

    import django
    from django.conf import settings
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)

    settings.configure(
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": sys.argv[1]}},
        INSTALLED_APPS=["airlock.integrations.django"],
        AIRLOCK={"EXECUTOR": "celery", "SCOPE": "outbox", "OUTBOX": {"FAST_PATH": False}},
        USE_TZ=True,
    )
    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    import airlock
    from airlock_django.models import OutboxMessage
    from otel_celery_app import app, record

    app.set_current()  # the relay finds tasks by name on Celery's current app

    call_command("migrate", verbosity=0)
    tracer = trace.get_tracer("request")
    with tracer.start_as_current_span("request") as request:
        with transaction.atomic(), airlock.scope():
            airlock.enqueue(record, "outbox-relayed")
    [row] = OutboxMessage.objects.all()
    assert row.status == OutboxMessage.PENDING, "only the relay publishes"
    call_command("airlock_relay", "--once", verbosity=0)
    row.refresh_from_db()
    flush = [s for s in exporter.get_finished_spans() if s.name == "airlock flush"]
    print(json.dumps({
        "trace_id": format(request.get_span_context().trace_id, "032x"),
        "span_id": format(request.get_span_context().span_id, "016x"),
        "delivered": row.status == OutboxMessage.DELIVERED,
        "flush_trace_ids": [format(s.context.trace_id, "032x") for s in flush],
    }))
    """
)


def test_the_relay_sends_the_enqueuers_context(
    flushed_redis: Callable[[int], Any],
    start_worker: Callable[..., Worker],
    span_file: Path,
    tmp_path: Path,
) -> None:
    flushed_redis(CELERY_DB)
    worker = start_celery(start_worker, span_file)
    done = subprocess.run(
        [sys.executable, "-c", ENQUEUER, str(tmp_path / "outbox.sqlite3")],
        cwd=HERE,
        env=worker_env(tmp_path / "enqueuer-spans.jsonl"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    enqueuer = json.loads(done.stdout.splitlines()[-1])
    assert enqueuer["delivered"]
    # The relay's flush runs outside any span: it continues the one enqueuer's trace.
    assert enqueuer["flush_trace_ids"] == [enqueuer["trace_id"]]

    spans = wait_for(span_file, "process airlock_otel.record", WORKER_TIMEOUT)
    [task] = [span for span in spans if span["name"] == "process airlock_otel.record"]
    assert task["trace_id"] == enqueuer["trace_id"], worker.output()
    assert task["parent_id"] == enqueuer["span_id"]
