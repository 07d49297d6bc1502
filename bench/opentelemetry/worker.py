"""One measurement process of bench/opentelemetry: ``worker.py <setting> <n> <repeat>``.

Prints a JSON object of nanoseconds: per intent of a large flush, per one-intent
scope, per ``running_task``. Settings:

- ``absent``: airlock-core alone (autoload off, no plugin registered): what a
  process without airlock-opentelemetry pays;
- ``no-sdk``: the plugin registered, no OpenTelemetry SDK (the API's no-op
  providers);
- ``sdk``: the plugin registered, an SDK tracer provider whose spans go to a
  processor that drops them, and a meter provider with an in-memory reader; the
  work runs under an active span, so every intent carries a trace context.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

os.environ["AIRLOCK_DISABLE_PLUGIN_AUTOLOAD"] = "1"

import airlock
from airlock.plugins import running_task


def task(n: int) -> None:
    """The benchmark's task: never run, the executor only takes it."""


class NoOpExecutor:
    """Takes a flush and sends nothing: the cost measured is airlock's and the plugin's."""

    def __call__(self, intent: airlock.Intent) -> None:
        pass

    def dispatch_many(self, intents: Sequence[airlock.Intent]) -> None:
        pass


def setup(setting: str) -> Callable[[], AbstractContextManager[Any]]:
    if setting == "absent":
        return nullcontext
    import airlock_opentelemetry.plugin

    airlock.plugins.register(airlock_opentelemetry.plugin, name="opentelemetry")
    if setting == "no-sdk":
        return nullcontext
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

    provider = TracerProvider()
    provider.add_span_processor(SpanProcessor())  # the base class: ends spans, exports nothing
    trace.set_tracer_provider(provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))
    tracer = trace.get_tracer("bench")
    return lambda: tracer.start_as_current_span("request")


def best(run: Callable[[], None], repeat: int, per: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter_ns()
        run()
        times.append((time.perf_counter_ns() - start) / per)
    return min(times)


def main() -> None:
    setting, n, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    active = setup(setting)
    executor = NoOpExecutor()
    headers: dict[str, str] = {}
    with active(), airlock.scope(executor=lambda intent: headers.update(intent.headers or {})):
        airlock.enqueue(task, 0)

    def flush() -> None:
        with active(), airlock.scope(executor=executor):
            for i in range(n):
                airlock.enqueue(task, i)

    def scopes() -> None:
        with active():
            for i in range(n // 10):
                with airlock.scope(executor=executor):
                    airlock.enqueue(task, i)

    def runs() -> None:
        for _ in range(n // 10):
            with running_task("bench.task", headers):
                pass

    result = {
        "per_intent_ns": best(flush, repeat, n),
        "one_intent_scope_ns": best(scopes, repeat, n // 10),
        "running_task_ns": best(runs, repeat, n // 10),
        "headers": sorted(headers),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
