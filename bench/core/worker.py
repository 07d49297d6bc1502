"""One timing sample, in a fresh interpreter: ``python worker.py LIBRARY N SCOPES``.

LIBRARY is ``direct`` (plain function calls, no airlock), ``airlock`` (whichever
airlock this interpreter imports: ours, or the original airlock-py),
``airlock+hook`` (ours with one lifecycle hook implemented) or ``floor`` (the
least any pure-Python library with this API can do, see ``floor_library``).
Only the API both libraries share is used: ``airlock.scope()`` with its default
synchronous executor, and ``airlock.enqueue(task, arg)``. Prints one JSON object.
"""

from __future__ import annotations

import json
import sys
import time
import tracemalloc
from contextvars import ContextVar
from types import ModuleType, SimpleNamespace
from typing import Any


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


_floor_current: ContextVar[Any] = ContextVar("floor_current", default=None)
_floor_get, _floor_set, _floor_reset = _floor_current.get, _floor_current.set, _floor_current.reset


class _FloorScope:
    """A scope reduced to what airlock's API shape costs in pure Python.

    A fresh object per block, whose ``__enter__`` reads the parent and sets a
    ContextVar, and whose ``__exit__`` resets it and runs the buffer; entries of
    three slots appended by one ``extend``. No lifecycle states, policies,
    hooks, nesting, plugins or error accounting: a lower bound, not a library.
    """

    __slots__ = ("_parent", "_raw", "_token")

    def __enter__(self) -> _FloorScope:
        self._parent = _floor_get()
        self._token = _floor_set(self)
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        _floor_reset(self._token)
        raw = self._raw
        if exc is not None or not raw:
            return
        if len(raw) == 3:
            task, args, kwargs = raw[0], raw[1], raw[2]
            if kwargs:
                task(*args, **kwargs)
            else:
                task(*args)
            return
        entries = iter(raw)
        for task, args, kwargs in zip(entries, entries, entries):  # noqa: B905
            if kwargs:
                task(*args, **kwargs)
            else:
                task(*args)


def _floor_scope(
    *, policy: object = None, executor: object = None, _cls: object = None, **scope_kwargs: Any
) -> _FloorScope:
    scope = object.__new__(_FloorScope)
    scope._raw = []
    return scope


def _floor_enqueue(
    task: Any, /, *args: Any, _dispatch_options: object = None, **kwargs: Any
) -> None:
    scope = _floor_get()
    if scope is None or not callable(task):
        raise TypeError("enqueue() needs a callable task inside a scope")
    scope._raw.extend((task, args, kwargs or None))


def floor_library() -> Any:
    """``scope`` and ``enqueue`` with airlock's signatures and nothing but the mechanism."""
    return SimpleNamespace(scope=_floor_scope, enqueue=_floor_enqueue)


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


def load(library: str) -> Any:
    """The ``scope``/``enqueue`` provider a variant measures (a hook added for ``+hook``)."""
    if library == "floor":
        return floor_library()
    import airlock

    if library == "airlock+hook":
        add_a_hook()
    return airlock


def main(library: str, n: int, scopes: int) -> dict[str, float]:
    if library == "direct":
        per_intent_direct(n // 10)
        return {"per_intent_ns": per_intent_direct(n), "per_scope_ns": per_scope_direct(scopes)}
    airlock = load(library)
    # Warm up: the first scope may load plugins and configuration.
    per_intent_airlock(airlock, n // 10)
    per_scope_airlock(airlock, scopes // 10)
    return {
        "per_intent_ns": per_intent_airlock(airlock, n),
        "per_scope_ns": per_scope_airlock(airlock, scopes),
        "bytes_per_intent": bytes_per_intent(airlock, n),
    }


def run_only(library: str, workload: str, count: int) -> None:
    """Warm up, then run ``count`` operations of one workload, untimed (for callgrind).

    ``run.py --instructions`` runs this under ``valgrind --tool=callgrind`` with
    ``count`` = 0 and = K; the difference over K is instructions per operation.
    """
    if library == "direct":
        for i in range(1_000 + count):
            task(i)
        return
    airlock = load(library)
    per_intent_airlock(airlock, 1_000)
    per_scope_airlock(airlock, 1_000)
    scope, enqueue = airlock.scope, airlock.enqueue
    if workload == "intent":
        with scope():
            for i in range(count):
                enqueue(task, i)
    else:
        for i in range(count):
            with scope():
                enqueue(task, i)


if __name__ == "__main__":
    if sys.argv[1] == "profile":
        print(profile(int(sys.argv[2]), int(sys.argv[3])))
    elif sys.argv[1] == "only":
        run_only(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        print(json.dumps(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))))
