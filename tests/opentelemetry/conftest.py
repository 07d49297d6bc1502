"""opentelemetry suite: an in-memory SDK in the test process, real workers exporting to files.

Redis databases 12 (Celery), 13 (Dramatiq) and 14 (RQ) are this suite's. The
test process has one SDK for the whole session (OpenTelemetry's global
providers are set once): spans go to an in-memory exporter, metrics to an
in-memory reader. Each worker process sets up its own SDK (``spanfile.py``)
and writes its spans to a file the test reads with a bounded wait.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import airlock_opentelemetry

HERE = Path(__file__).parent
CELERY_DB, DRAMATIQ_DB, RQ_DB = 12, 13, 14
WORKER_TIMEOUT = 60.0

EXPORTER = InMemorySpanExporter()
READER = InMemoryMetricReader()
_provider = TracerProvider()
_provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
trace.set_tracer_provider(_provider)
metrics.set_meter_provider(MeterProvider(metric_readers=[READER]))


def db_url(number: int) -> str:
    base = os.environ.get("AIRLOCK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    return urlunsplit(urlsplit(base)._replace(path=f"/{number}"))


@pytest.fixture(autouse=True)
def defaults(fresh_airlock: None) -> Iterator[None]:
    airlock_opentelemetry.reset_configuration()
    EXPORTER.clear()
    yield
    airlock_opentelemetry.reset_configuration()


@pytest.fixture
def spans() -> Callable[[], list[ReadableSpan]]:
    """The spans the test process finished so far."""
    return lambda: list(EXPORTER.get_finished_spans())


@pytest.fixture
def collect() -> Callable[[], dict[str, list[tuple[dict[str, Any], Any]]]]:
    """One collection: each metric's data points as (attributes, value or histogram point).

    Collect once per moment compared: SDK 1.20's histograms report only the points
    recorded since the previous collection.
    """

    def snapshot() -> dict[str, list[tuple[dict[str, Any], Any]]]:
        data = READER.get_metrics_data()
        found: dict[str, list[tuple[dict[str, Any], Any]]] = {}
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    for point in metric.data.data_points:
                        value = getattr(point, "value", point)
                        found.setdefault(metric.name, []).append(
                            (dict(point.attributes or {}), value)
                        )
        return found

    return snapshot


@pytest.fixture
def tracer() -> trace.Tracer:
    return trace.get_tracer("tests.opentelemetry")


@pytest.fixture
def span_file(tmp_path: Path) -> Path:
    return tmp_path / "worker-spans.jsonl"


def worker_env(span_file: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "AIRLOCK_OTEL_SPANS": str(span_file),
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
        **extra,
    }
    env.pop("AIRLOCK_EXECUTOR", None)
    return env


class Worker:
    """A worker subprocess, its output in a log file, killed at the end of the test."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = log.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=HERE,
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the worker's children go with it
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)
        self._out.close()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []

    def start(command: list[str], env: dict[str, str]) -> Worker:
        worker = Worker(command, env, tmp_path / f"worker-{len(started)}.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def flushed_redis(redis_url: str) -> Callable[[int], redis.Redis]:
    """``client(db)``: an emptied Redis database of this suite (Redis must answer)."""

    def client(number: int) -> redis.Redis:
        connection = redis.Redis.from_url(db_url(number))
        connection.flushdb()
        return connection

    return client


def python() -> str:
    return sys.executable
