"""airlock's rq flush versus a Queue.enqueue loop and a bare Queue.enqueue_many.

Publishing only (no worker): N jobs onto one queue in Redis database 4, best of
--rounds, side by side in one run: straight to Redis on loopback, then through
a loopback proxy that adds --rtt-ms of round-trip time (a network's worth;
0 skips it). Needs Redis (AIRLOCK_TEST_REDIS_URL or 127.0.0.1:6379). Table on
stdout, JSON in bench/results/rq.json.
"""

from __future__ import annotations

import argparse
import json
import operator
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import rq
from redis import Redis
from rq import Queue

import airlock
import airlock_rq

if __package__ in (None, ""):
    from latency import LatencyProxy
else:  # pragma: no cover - imported as a module
    from .latency import LatencyProxy

QUEUE = "rq_bench"
RESULTS = Path(__file__).resolve().parent.parent / "results" / "rq.json"
JOB = operator.neg  # importable by any worker, cheap to describe


def redis_url() -> str:
    base = os.environ.get("AIRLOCK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    return urlunsplit(urlsplit(base)._replace(path="/4"))


def enqueue_loop(queue: Queue, n: int) -> None:
    for i in range(n):
        queue.enqueue(JOB, i)


def bare_enqueue_many(queue: Queue, n: int) -> None:
    queue.enqueue_many([Queue.prepare_data(JOB, (i,)) for i in range(n)])


def airlock_flush(queue: Queue, n: int) -> None:
    options = {"queue": queue.name}
    with airlock.scope(executor="rq"):
        for i in range(n):
            airlock.enqueue(JOB, i, _dispatch_options=options)


def measure(fn: Callable[[Queue, int], None], queue: Queue, n: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        queue.connection.flushdb()
        start = time.perf_counter()
        fn(queue, n)
        elapsed = time.perf_counter() - start
        assert queue.count == n, f"{fn.__name__} enqueued {queue.count} of {n}"
        best = min(best, elapsed)
    queue.connection.flushdb()
    return best


def compare(connection: Redis, n: int, rounds: int) -> dict[str, Any]:
    """The three ways, side by side, over ``connection``."""
    airlock_rq.configure(connection=connection)
    queue = Queue(QUEUE, connection=connection)
    timings = {
        "Queue.enqueue loop": measure(enqueue_loop, queue, n, rounds),
        "bare Queue.enqueue_many": measure(bare_enqueue_many, queue, n, rounds),
        "airlock flush (rq)": measure(airlock_flush, queue, n, rounds),
    }
    flush = timings["airlock flush (rq)"]
    return {
        "seconds": timings,
        "speedup_vs_enqueue_loop": timings["Queue.enqueue loop"] / flush,
        "ratio_vs_enqueue_many": timings["bare Queue.enqueue_many"] / flush,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=10_000, help="jobs per run (default 10000)")
    parser.add_argument("--rounds", type=int, default=3, help="best of this many runs")
    parser.add_argument("--rtt-ms", type=float, default=0.5, help="proxy round trip (0: skip)")
    args, _ = parser.parse_known_args()
    url = redis_url()
    settings = {"loopback": compare(Redis.from_url(url), args.n, args.rounds)}
    if args.rtt_ms > 0:
        parts = urlsplit(url)
        proxy = LatencyProxy((parts.hostname or "127.0.0.1", parts.port or 6379), args.rtt_ms)
        try:
            slow = Redis(host="127.0.0.1", port=proxy.port, db=4)
            settings[f"+{args.rtt_ms:g} ms RTT"] = compare(slow, args.n, args.rounds)
            slow.close()
        finally:
            proxy.close()
    print(f"\nrq: N={args.n}, best of {args.rounds}, rq {rq.__version__}")
    header = f"{'redis':<16} {'enqueue loop':>13} {'enqueue_many':>13} {'airlock flush':>14}"
    print(f"{header} {'vs loop':>8} {'vs many':>8}")
    for name, result in settings.items():
        t = result["seconds"]
        print(
            f"{name:<16} {t['Queue.enqueue loop']:>12.3f}s {t['bare Queue.enqueue_many']:>12.3f}s"
            f" {t['airlock flush (rq)']:>13.3f}s {result['speedup_vs_enqueue_loop']:>7.1f}x"
            f" {result['ratio_vs_enqueue_many']:>7.2f}x"
        )
    print("targets: >= 8x the enqueue loop, >= 0.8x bare enqueue_many")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "n": args.n,
        "rounds": args.rounds,
        "rq": rq.__version__,
        "python": platform.python_version(),
        "settings": settings,
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
