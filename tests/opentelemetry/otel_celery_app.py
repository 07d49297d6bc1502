"""The Celery app of the suite's worker, and the task both sides share."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import spanfile
from celery import Celery
from opentelemetry import trace

from airlock_celery import ScopedTask

spanfile.setup()

QUEUE = "otel_celery"
_base = os.environ.get("AIRLOCK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
BROKER = urlunsplit(urlsplit(_base)._replace(path="/12"))

app = Celery("airlock_otel_tests", broker=BROKER, set_as_current=False)
app.conf.update(
    task_default_queue=QUEUE,
    worker_hijack_root_logger=False,
    worker_enable_remote_control=False,
    broker_connection_retry_on_startup=True,
)


@app.task(base=ScopedTask, name="airlock_otel.record", shared=False)
def record(label: str) -> str:
    with trace.get_tracer("tests.worker").start_as_current_span(
        "inside", attributes={"label": label}
    ):
        return label
