"""airlock's huey flush versus a loop of ``task(...)`` calls, on Redis.

Publishing only (no consumer): N tasks onto one RedisHuey queue in Redis
database 8, side by side in one run: straight to Redis on loopback, then
through a loopback proxy that adds --rtt-ms of round-trip time (a network's
worth; 0 skips it; bench/rq/latency.py). Each setting runs one warm-up round,
then --rounds rounds in which the two ways alternate (the order rotates every
round); the table shows medians. The same messages go out each way, and the
bench checks it: the first queued task is the same, its id aside.

airlock runs with ``AIRLOCK_DISABLE_PLUGIN_AUTOLOAD=1`` and the huey plugin
registered by hand: airlock-core and airlock-huey only.

Needs Redis (AIRLOCK_TEST_REDIS_URL or 127.0.0.1:6379). Table on stdout, JSON
in bench/results/huey.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

os.environ["AIRLOCK_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # before airlock loads its plugins

import huey
from huey import RedisHuey

import airlock
import airlock_huey.plugin

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "rq"))
from latency import LatencyProxy

RESULTS = Path(__file__).resolve().parent.parent / "results" / "huey.json"


def redis_url() -> str:
    base = os.environ.get("AIRLOCK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    return urlunsplit(urlsplit(base)._replace(path="/8"))


def make_task(app: RedisHuey) -> Any:
    @app.task()
    def bench_task(number: int) -> int:
        return -number

    return bench_task


def task_loop(task: Any, n: int) -> None:
    for i in range(n):
        task(i)


def airlock_flush(task: Any, n: int) -> None:
    with airlock.scope():  # routed to the huey executor by the task's kind
        for i in range(n):
            airlock.enqueue(task, i)


WAYS: dict[str, Callable[[Any, int], None]] = {
    "task(...) loop": task_loop,
    "airlock flush (huey)": airlock_flush,
}


def first_message(app: RedisHuey) -> tuple[Any, ...]:
    [task] = app.pending(limit=1)
    return (type(task).__name__, task.args, task.kwargs, task.retries, task.priority, task.eta)


def run_once(fn: Callable[[Any, int], None], task: Any, n: int) -> float:
    app = task.huey
    app.flush()
    gc.collect()
    start = time.perf_counter()
    fn(task, n)
    elapsed = time.perf_counter() - start
    assert app.pending_count() == n, f"{fn.__name__} queued {app.pending_count()} of {n}"
    return elapsed


def compare(app: RedisHuey, n: int, rounds: int) -> dict[str, Any]:
    """The two ways on ``app``: a warm-up, then alternating rounds."""
    task = make_task(app)
    names = list(WAYS)
    messages = {}
    for name in names:  # warm-up round; check the messages are the same
        run_once(WAYS[name], task, n)
        messages[name] = first_message(app)
    assert all(m == messages[names[0]] for m in messages.values()), "the ways queue different tasks"
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(run_once(WAYS[name], task, n))
    app.flush()
    timings = {name: statistics.median(values) for name, values in samples.items()}
    return {
        "seconds": timings,
        "samples": samples,
        "speedup_vs_task_loop": timings["task(...) loop"] / timings["airlock flush (huey)"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=10_000, help="tasks per run (default 10000)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (median)")
    parser.add_argument("--rtt-ms", type=float, default=0.5, help="proxy round trip (0: skip)")
    args, _ = parser.parse_known_args()
    airlock.plugins.register(airlock_huey.plugin, name="huey")
    url = redis_url()
    settings = {"loopback": compare(RedisHuey("huey_bench", url=url), args.n, args.rounds)}
    if args.rtt_ms > 0:
        parts = urlsplit(url)
        proxy = LatencyProxy((parts.hostname or "127.0.0.1", parts.port or 6379), args.rtt_ms)
        try:
            slow = RedisHuey("huey_bench", host="127.0.0.1", port=proxy.port, db=8)
            settings[f"+{args.rtt_ms:g} ms RTT"] = compare(slow, args.n, args.rounds)
        finally:
            proxy.close()
    print(
        f"\nhuey: N={args.n}, median of {args.rounds} alternating rounds, huey {huey.__version__}"
    )
    print(f"{'redis':<16} {'task() loop':>12} {'airlock flush':>14} {'vs loop':>8}")
    for name, result in settings.items():
        t = result["seconds"]
        print(
            f"{name:<16} {t['task(...) loop']:>11.3f}s {t['airlock flush (huey)']:>13.3f}s"
            f" {result['speedup_vs_task_loop']:>7.1f}x"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "n": args.n,
        "rounds": args.rounds,
        "huey": huey.__version__,
        "python": platform.python_version(),
        "settings": settings,
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
