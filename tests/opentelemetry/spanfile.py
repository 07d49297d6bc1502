"""Worker side of the suite: an SDK whose spans go, one JSON line each, to a file the test reads.

Each worker process the suite starts imports ``setup()`` (through its app or job
module); the file is ``$AIRLOCK_OTEL_SPANS``. ``read(path)`` is the test's side.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

SPANS_ENV = "AIRLOCK_OTEL_SPANS"


class FileExporter(SpanExporter):
    """Appends each finished span as a JSON line (ids as hex) to ``path``."""

    def __init__(self, path: str) -> None:
        self.path = path

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with open(self.path, "a", encoding="utf-8") as out:
            for span in spans:
                out.write(json.dumps(as_dict(span)) + "\n")
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        """Nothing to release: every export opens and closes the file."""


def as_dict(span: ReadableSpan) -> dict[str, Any]:
    context = span.get_span_context()
    assert context is not None
    return {
        "name": span.name,
        "kind": span.kind.name,
        "trace_id": format(context.trace_id, "032x"),
        "span_id": format(context.span_id, "016x"),
        "parent_id": format(span.parent.span_id, "016x") if span.parent else None,
        "links": [
            {"trace_id": format(link.context.trace_id, "032x"),
             "span_id": format(link.context.span_id, "016x")}
            for link in span.links
        ],
        "attributes": dict(span.attributes or {}),
        "status": span.status.status_code.name,
        "pid": os.getpid(),
    }  # fmt: skip


def setup() -> None:
    """Install an SDK tracer provider exporting to ``$AIRLOCK_OTEL_SPANS`` (once per process)."""
    path = os.environ.get(SPANS_ENV)
    if not path:
        return
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(FileExporter(path)))
    trace.set_tracer_provider(provider)
    if os.environ.get("AIRLOCK_OTEL_CELERY_INSTRUMENT") == "1":
        from opentelemetry.instrumentation.celery import CeleryInstrumentor

        CeleryInstrumentor().instrument()


def read(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_for(path: Path, name: str, timeout: float, *, count: int = 1) -> list[dict[str, Any]]:
    """Every span in the file once ``count`` spans called ``name`` are there (bounded wait)."""
    deadline = time.monotonic() + timeout
    while True:
        spans = read(path)
        if sum(1 for span in spans if span["name"] == name) >= count:
            return spans
        if time.monotonic() > deadline:
            raise AssertionError(
                f"no {count} span(s) {name!r} within {timeout}s; the worker exported: "
                f"{[span['name'] for span in spans]}"
            )
        time.sleep(0.05)
