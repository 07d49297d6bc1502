"""airlock's django_q flush versus a loop of ``async_task`` calls, on django-q2's Redis broker.

Publishing only (no cluster): N tasks onto one django-q2 Redis queue in Redis
database 9, side by side in one run: straight to Redis on loopback, then
through a loopback proxy that adds --rtt-ms of round-trip time (0 skips it;
bench/rq/latency.py). Each setting runs one warm-up round, then --rounds
rounds in which the two ways alternate; the table shows medians. The same
tasks go out each way, and the bench checks it: the first queued task is the
same, its id, name and timestamp aside.

``async_task`` without a ``broker`` makes a new broker, and so a new Redis
client and connection, for every task; the airlock flush makes one broker per
flush and hands it to each ``async_task``. Both push one message per task.
N defaults to 500: the loop opens N connections per round, each one proxied
by threads of its own in the RTT setting.

airlock runs with ``AIRLOCK_DISABLE_PLUGIN_AUTOLOAD=1`` and the django_q plugin
registered by hand. Needs Redis (AIRLOCK_TEST_REDIS_URL or 127.0.0.1:6379).
Table on stdout, JSON in bench/results/django_q.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import operator
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

os.environ["AIRLOCK_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # before airlock loads its plugins

import django
from django.conf import settings

import airlock
import airlock_django_q.plugin

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "rq"))
from latency import LatencyProxy

RESULTS = Path(__file__).resolve().parent.parent / "results" / "django_q.json"
TASK = operator.neg  # importable by any worker, cheap to pickle
VOLATILE = {"id", "name", "started"}


def redis_url() -> str:
    base = os.environ.get("AIRLOCK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    return urlunsplit(urlsplit(base)._replace(path="/9"))


def configure(url: str) -> None:
    settings.configure(
        INSTALLED_APPS=["django_q"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        Q_CLUSTER={"name": "django_q_bench", "redis": url, "log_level": "WARNING"},
        USE_TZ=True,
        LOGGING_CONFIG=None,
        SECRET_KEY="airlock-bench",
    )
    django.setup()


def task_loop(n: int) -> None:
    from django_q.tasks import async_task

    for i in range(n):
        async_task(TASK, i)


def airlock_flush(n: int) -> None:
    with airlock.scope(executor="django_q"):
        for i in range(n):
            airlock.enqueue(TASK, i)


WAYS: dict[str, Callable[[int], None]] = {
    "async_task loop": task_loop,
    "airlock flush (django_q)": airlock_flush,
}


def first_task(broker: Any) -> dict[str, Any]:
    from django_q.signing import SignedPackage

    raw = broker.connection.lindex(broker.list_key, 0)
    return {k: v for k, v in SignedPackage.loads(raw).items() if k not in VOLATILE}


def run_once(fn: Callable[[int], None], broker: Any, n: int) -> float:
    broker.delete_queue()
    gc.collect()
    start = time.perf_counter()
    fn(n)
    elapsed = time.perf_counter() - start
    assert broker.queue_size() == n, f"{fn.__name__} queued {broker.queue_size()} of {n}"
    return elapsed


def compare(n: int, rounds: int) -> dict[str, Any]:
    """The two ways on the configured Redis: a warm-up, then alternating rounds."""
    from django_q.brokers import get_broker

    broker = get_broker()
    names = list(WAYS)
    tasks = {}
    for name in names:
        run_once(WAYS[name], broker, n)
        tasks[name] = first_task(broker)
    assert all(t == tasks[names[0]] for t in tasks.values()), "the ways queue different tasks"
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(run_once(WAYS[name], broker, n))
    broker.delete_queue()
    timings = {name: statistics.median(values) for name, values in samples.items()}
    return {
        "seconds": timings,
        "samples": samples,
        "speedup_vs_task_loop": timings["async_task loop"] / timings["airlock flush (django_q)"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=500, help="tasks per run (default 500)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (median)")
    parser.add_argument("--rtt-ms", type=float, default=0.5, help="proxy round trip (0: skip)")
    args, _ = parser.parse_known_args()
    url = redis_url()
    configure(url)
    from django_q.conf import Conf

    airlock.plugins.register(airlock_django_q.plugin, name="django_q")
    settings_run = {"loopback": compare(args.n, args.rounds)}
    if args.rtt_ms > 0:
        parts = urlsplit(url)
        proxy = LatencyProxy((parts.hostname or "127.0.0.1", parts.port or 6379), args.rtt_ms)
        try:
            Conf.REDIS = f"redis://127.0.0.1:{proxy.port}/9"  # every new broker goes through it
            settings_run[f"+{args.rtt_ms:g} ms RTT"] = compare(args.n, args.rounds)
        finally:
            Conf.REDIS = url
            proxy.close()
    release = version("django-q2")
    print(
        f"\ndjango_q: N={args.n}, median of {args.rounds} alternating rounds, django-q2 {release}"
    )
    print(f"{'redis':<16} {'async_task loop':>16} {'airlock flush':>14} {'vs loop':>8}")
    for name, result in settings_run.items():
        t = result["seconds"]
        print(
            f"{name:<16} {t['async_task loop']:>15.3f}s {t['airlock flush (django_q)']:>13.3f}s"
            f" {result['speedup_vs_task_loop']:>7.1f}x"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "n": args.n,
        "rounds": args.rounds,
        "django_q2": release,
        "python": platform.python_version(),
        "settings": settings_run,
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
