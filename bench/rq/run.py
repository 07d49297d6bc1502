"""airlock's rq flush versus a Queue.enqueue loop and a bare Queue.enqueue_many.

Publishing only (no worker): N jobs onto one queue in Redis database 4, side by
side in one run: straight to Redis on loopback, then through a loopback proxy
that adds --rtt-ms of round-trip time (a network's worth; 0 skips it). Each
setting runs one warm-up round, then --rounds rounds in which the three ways
alternate (the order rotates every round); the table shows medians. The same
jobs go out each way, and the bench checks it: the first job's Redis hash is
the same, timestamps and id aside.

airlock runs with ``AIRLOCK_DISABLE_PLUGIN_AUTOLOAD=1`` and the rq plugin
registered by hand: airlock-core and airlock-rq only. Another installed plugin
with a per-intent lifecycle hook (the example plugin has one) adds that hook's
cost to every intent, and that is not what this measures.

Needs Redis (AIRLOCK_TEST_REDIS_URL or 127.0.0.1:6379). Table on stdout, JSON
in bench/results/rq.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import operator
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

os.environ["AIRLOCK_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # before airlock loads its plugins

import rq
from redis import Redis
from rq import Queue

import airlock
import airlock_rq
import airlock_rq.plugin

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


#: Fields of a job's Redis hash that differ between two enqueues of the same call.
VOLATILE = {b"created_at", b"enqueued_at"}


def first_job(queue: Queue) -> dict[bytes, bytes]:
    """The Redis hash of the queue's first job, without its timestamps."""
    job_id = queue.get_job_ids(0, 1)[0]
    saved = queue.connection.hgetall(f"rq:job:{job_id}")
    return {field: value for field, value in saved.items() if field not in VOLATILE}


def run_once(fn: Callable[[Queue, int], None], queue: Queue, n: int) -> float:
    queue.connection.flushdb()
    gc.collect()
    start = time.perf_counter()
    fn(queue, n)
    elapsed = time.perf_counter() - start
    assert queue.count == n, f"{fn.__name__} enqueued {queue.count} of {n}"
    return elapsed


WAYS: dict[str, Callable[[Queue, int], None]] = {
    "Queue.enqueue loop": enqueue_loop,
    "bare Queue.enqueue_many": bare_enqueue_many,
    "airlock flush (rq)": airlock_flush,
}


def compare(connection: Redis, n: int, rounds: int) -> dict[str, Any]:
    """The three ways over ``connection``: a warm-up, then alternating rounds."""
    airlock_rq.configure(connection=connection)
    queue = Queue(QUEUE, connection=connection)
    names = list(WAYS)
    jobs = {}
    for name in names:  # warm-up round; check the jobs are the same
        run_once(WAYS[name], queue, n)
        jobs[name] = first_job(queue)
    assert all(job == jobs[names[0]] for job in jobs.values()), "the ways enqueue different jobs"
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(run_once(WAYS[name], queue, n))
    queue.connection.flushdb()
    timings = {name: statistics.median(values) for name, values in samples.items()}
    flush = timings["airlock flush (rq)"]
    return {
        "seconds": timings,
        "samples": samples,
        "speedup_vs_enqueue_loop": timings["Queue.enqueue loop"] / flush,
        "ratio_vs_enqueue_many": timings["bare Queue.enqueue_many"] / flush,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=10_000, help="jobs per run (default 10000)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (median)")
    parser.add_argument("--rtt-ms", type=float, default=0.5, help="proxy round trip (0: skip)")
    args, _ = parser.parse_known_args()
    airlock.plugins.register(airlock_rq.plugin, name="rq")
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
    print(f"\nrq: N={args.n}, median of {args.rounds} alternating rounds, rq {rq.__version__}")
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
