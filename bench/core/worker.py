"""One timing sample, in a fresh interpreter: ``python worker.py LIBRARY N SCOPES``.

LIBRARY is ``direct`` (plain function calls, no airlock), ``airlock`` (whichever
airlock this interpreter imports: ours, or the original airlock-py) or
``airlock+hook`` (ours with one lifecycle hook implemented). Only the API both
libraries share is used: ``airlock.scope()`` with its default synchronous
executor, and ``airlock.enqueue(task, arg)``. Prints one JSON object.
"""

from __future__ import annotations

import json
import sys
import time
import tracemalloc
from types import ModuleType


def task(value: object) -> None:
    """The no-op task every variant runs."""


def per_intent_direct(n: int) -> float:
    start = time.perf_counter_ns()
    for i in range(n):
        task(i)
    return (time.perf_counter_ns() - start) / n


def per_scope_direct(iterations: int) -> float:
    return per_intent_direct(iterations)


def per_intent_airlock(airlock: ModuleType, n: int) -> float:
    scope, enqueue = airlock.scope, airlock.enqueue
    start = time.perf_counter_ns()
    with scope():
        for i in range(n):
            enqueue(task, i)
    return (time.perf_counter_ns() - start) / n


def per_scope_airlock(airlock: ModuleType, iterations: int) -> float:
    scope, enqueue = airlock.scope, airlock.enqueue
    start = time.perf_counter_ns()
    for i in range(iterations):
        with scope():
            enqueue(task, i)
    return (time.perf_counter_ns() - start) / iterations


def bytes_per_intent(airlock: ModuleType, n: int) -> float:
    """Traced heap growth while ``n`` intents sit in an open scope, per intent.

    The argument is a small cached int, so only what the library allocates
    (intent, argument tuple, buffer slot) is counted.
    """
    scope, enqueue = airlock.scope, airlock.enqueue
    tracemalloc.start()
    try:
        with scope():
            before = tracemalloc.get_traced_memory()[0]
            for _ in range(n):
                enqueue(task, 7)
            grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    return grown / n


def add_a_hook() -> None:
    """Register one lifecycle hook implementation (ours only), as a plugin would."""
    from airlock import hookimpl, plugins

    class CountDispatches:
        count = 0

        @hookimpl
        def airlock_intent_dispatched(self, intent: object) -> None:
            self.count += 1

    plugins.register(CountDispatches(), name="bench-hook")


def profile(n: int, scopes: int) -> str:
    """cProfile of both timed workloads with ours; the top entries by own time."""
    import cProfile
    import io
    import pstats

    import airlock

    per_intent_airlock(airlock, 1_000)
    report = io.StringIO()
    for title, workload in (
        (f"{n:,} intents in one scope", lambda: per_intent_airlock(airlock, n)),
        (f"{scopes:,} one-intent scopes", lambda: per_scope_airlock(airlock, scopes)),
    ):
        profiler = cProfile.Profile()
        profiler.runcall(workload)
        report.write(f"--- {title}\n")
        pstats.Stats(profiler, stream=report).sort_stats("tottime").print_stats(12)
    return report.getvalue()


def main(library: str, n: int, scopes: int) -> dict[str, float]:
    if library == "direct":
        per_intent_direct(n // 10)
        return {"per_intent_ns": per_intent_direct(n), "per_scope_ns": per_scope_direct(scopes)}
    import airlock

    if library == "airlock+hook":
        add_a_hook()
    # Warm up: the first scope may load plugins and configuration.
    per_intent_airlock(airlock, n // 10)
    per_scope_airlock(airlock, scopes // 10)
    return {
        "per_intent_ns": per_intent_airlock(airlock, n),
        "per_scope_ns": per_scope_airlock(airlock, scopes),
        "bytes_per_intent": bytes_per_intent(airlock, n),
    }


if __name__ == "__main__":
    if sys.argv[1] == "profile":
        print(profile(int(sys.argv[2]), int(sys.argv[3])))
    else:
        print(json.dumps(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))))
