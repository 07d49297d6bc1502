"""Committed-intent throughput through the outbox versus a plain DjangoScope; the relay.

On PostgreSQL, in a database of its own (airlock_bench, created if missing;
AIRLOCK_BENCH_DB names another). Every transaction inserts one application
row and enqueues 1 or 100 intents, through ``DjangoScope`` (published after
the commit, nothing stored), the outbox with ``FAST_PATH=True`` (the same plus
an INSERT of the rows in the transaction and an UPDATE marking them delivered
after the publish) or with ``FAST_PATH=False`` (the INSERT and a NOTIFY; the
relay publishes later). Two executors: ``sync`` running a no-op task, which leaves the
outbox's own cost, and ``celery`` on Redis (database 5, queue
``outbox_bench``, which no worker consumes and which is emptied after each
round). The two scopes alternate round by round in one run; the table shows
medians.

The relay: N pending rows inserted up front, then ``Relay(batch_size=B).drain()``
timed for a couple of batch sizes, rounds alternating; with Celery, against a
plain flush of the same intents. Last, commit-to-run latency through a relay
process woken by NOTIFY. The run ends with the targets of issue #18.

    python bench/outbox/run.py                                   # defaults below
    python bench/outbox/run.py --n 200 --relay-rows 1000 --rounds 3   # a smoke run
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "outbox_bench_settings")

import celery  # noqa: E402
import django  # noqa: E402
import psycopg  # noqa: E402
import redis  # noqa: E402
from celery import Celery  # noqa: E402

import airlock  # noqa: E402

RESULTS = HERE.parent / "results" / "outbox.json"
QUEUE = "outbox_bench"
TASK_NAME = "outbox_bench.notify"
#: The variants compared, side by side: (scope, AIRLOCK["OUTBOX"]["FAST_PATH"], whether the
#: fast path's delivered-mark commits without waiting for the disk). "mark on disk" is the
#: fast path as it was before that change, kept to measure it.
SCOPES = {
    "DjangoScope": ("django", True, True),
    "Outbox FAST_PATH=True": ("outbox", True, True),
    "FAST_PATH=True, mark on disk": ("outbox", True, False),
    "Outbox FAST_PATH=False": ("outbox", False, True),
}


def redis_url() -> str:
    base = os.environ.get("AIRLOCK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    return urlunsplit(urlsplit(base)._replace(path="/5"))


def ensure_database() -> None:
    """Create the benchmark's database if it is missing (never a test database)."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    server = urlsplit(
        os.environ.get("AIRLOCK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    )
    with psycopg.connect(
        dbname=server.path.lstrip("/") or "test",
        user=database["USER"],
        password=database["PASSWORD"],
        host=database["HOST"],
        port=database["PORT"],
        autocommit=True,
    ) as admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [database["NAME"]]
        ).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{database["NAME"]}"')


def setup() -> None:
    from django.core.management import call_command
    from django.db import connection

    ensure_database()
    django.setup()
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS airlock_bench_order (id bigserial PRIMARY KEY, n integer)"
        )
    clear()


def clear() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE airlock_outbox, airlock_bench_order")


def make_app(url: str) -> Celery:
    """The Celery app of the run, current so that the outbox finds its task by name."""
    app = Celery("airlock_outbox_bench", broker=url)
    app.conf.update(task_default_queue=QUEUE, task_default_exchange=QUEUE,
                    task_default_routing_key=QUEUE)  # fmt: skip

    @app.task(name=TASK_NAME)
    def notify(number: int) -> None:
        """Never runs: nothing consumes the bench queue."""

    return app


# -- committed intents ------------------------------------------------------------


def use_fast_path(fast_path: bool) -> Any:
    """``settings.AIRLOCK`` of the run, with ``FAST_PATH`` as given."""
    from django.conf import settings
    from django.test import override_settings

    outbox = {**settings.AIRLOCK["OUTBOX"], "FAST_PATH": fast_path}
    return override_settings(AIRLOCK={**settings.AIRLOCK, "OUTBOX": outbox})


@contextlib.contextmanager
def mark_on_disk(durable: bool) -> Iterator[None]:
    """With ``durable``, the fast path's mark waits for the disk, as before issue #18."""
    from airlock_django import delivery

    lazy = delivery.without_waiting_for_disk
    if durable:
        delivery.without_waiting_for_disk = lambda using: None
    try:
        yield
    finally:
        delivery.without_waiting_for_disk = lazy


def transactions(scope: str, executor: str, task: Any, per_transaction: int, n: int) -> float:
    """Seconds for n intents in transactions of ``per_transaction``, commit and publish included."""
    from django.db import connection, transaction

    start = time.perf_counter()
    for number in range(n // per_transaction):
        with transaction.atomic(), airlock.scope(_cls=scope, executor=executor):
            with connection.cursor() as cursor:
                cursor.execute("INSERT INTO airlock_bench_order (n) VALUES (%s)", [number])
            for intent in range(per_transaction):
                airlock.enqueue(task, intent)
    return time.perf_counter() - start


def committed_rows(
    args: argparse.Namespace, app: Celery, client: redis.Redis
) -> list[dict[str, Any]]:
    import outbox_bench_tasks

    from airlock_django.models import OutboxMessage

    executors: dict[str, tuple[Any, Callable[[], int]]] = {
        "sync": (outbox_bench_tasks.noop, lambda: outbox_bench_tasks.CALLS.pop()),
        "celery": (app.tasks[TASK_NAME], lambda: int(client.llen(QUEUE))),
    }
    rows = []
    for executor, (task, published) in executors.items():
        for per_transaction in (1, 100):
            n = max(args.n // per_transaction, 1) * per_transaction
            seconds: dict[str, list[float]] = {name: [] for name in SCOPES}
            for _ in range(args.rounds):
                for name, (scope, fast_path, lazy_mark) in SCOPES.items():
                    outbox_bench_tasks.CALLS.append(0)
                    with use_fast_path(fast_path), mark_on_disk(not lazy_mark):
                        took = transactions(scope, executor, task, per_transaction, n)
                    seconds[name].append(took)
                    count = published()
                    if count != (n if fast_path else 0):
                        raise SystemExit(f"{name}/{executor}: {count} of {n} intents published")
                    status = OutboxMessage.DELIVERED if fast_path else OutboxMessage.PENDING
                    stored = OutboxMessage.objects.filter(status=status).count()
                    if stored != (0 if scope == "django" else n):
                        raise SystemExit(f"{name}/{executor}: {stored} rows")
                    client.delete(QUEUE)
                    clear()
            for name in SCOPES:
                median = statistics.median(seconds[name])
                rows.append(
                    {
                        "executor": executor,
                        "intents_per_transaction": per_transaction,
                        "scope": name,
                        "n": n,
                        "rounds": args.rounds,
                        "median_seconds": median,
                        "intents_per_second": n / median,
                        "transactions_per_second": n / per_transaction / median,
                        "all_seconds": seconds[name],
                    }
                )
    return rows


# -- the relay --------------------------------------------------------------------


def insert_pending(n: int, executor: str, task: str) -> None:
    from django.utils import timezone

    from airlock_django.models import OutboxMessage

    now = timezone.now()
    OutboxMessage.objects.bulk_create(
        (
            OutboxMessage(
                intent_id=uuid.uuid4(),
                task=task,
                executor=executor,
                payload=json.dumps({"args": [number], "kwargs": {}, "options": {}}),
                enqueued_at=now,
                next_attempt_at=now,
            )
            for number in range(n)
        ),
        batch_size=2000,
    )


def relay_rows(args: argparse.Namespace, client: redis.Redis) -> list[dict[str, Any]]:
    import outbox_bench_tasks

    from airlock_django.relay import Relay

    executors = {"sync": "outbox_bench_tasks.noop", "celery": TASK_NAME}
    batch_sizes = (100, 500)
    rows = []
    for executor, task in executors.items():
        seconds: dict[int, list[float]] = {size: [] for size in batch_sizes}
        for _ in range(args.relay_rounds):
            for size in batch_sizes:
                insert_pending(args.relay_rows, executor, task)
                outbox_bench_tasks.CALLS.append(0)
                start = time.perf_counter()
                tally = Relay(batch_size=size).drain()
                seconds[size].append(time.perf_counter() - start)
                published = (
                    outbox_bench_tasks.CALLS.pop() if executor == "sync" else client.llen(QUEUE)
                )
                if tally.delivered != args.relay_rows or published != args.relay_rows:
                    raise SystemExit(f"relay {executor}/{size}: {tally.describe()}, {published}")
                client.delete(QUEUE)
                clear()
        for size in batch_sizes:
            median = statistics.median(seconds[size])
            rows.append(
                {
                    "executor": executor,
                    "batch_size": size,
                    "rows": args.relay_rows,
                    "rounds": args.relay_rounds,
                    "median_seconds": median,
                    "rows_per_second": args.relay_rows / median,
                    "all_seconds": seconds[size],
                }
            )
    return rows


def celery_flush_vs_relay(
    args: argparse.Namespace, app: Celery, client: redis.Redis
) -> dict[str, Any]:
    """The same intents through Celery on Redis: a plain flush, and the relay draining rows.

    The flush is ``DjangoScope`` outside any transaction, 500 intents per scope
    (one ``dispatch_many``); the relay drains the same number of pending rows,
    500 per batch. Rounds alternate; medians.
    """
    from airlock_django.relay import Relay

    n, batch = args.relay_rows, 500
    task = app.tasks[TASK_NAME]
    seconds: dict[str, list[float]] = {"flush": [], "relay": []}
    for _ in range(args.relay_rounds):
        start = time.perf_counter()
        for first in range(0, n, batch):
            with airlock.scope(_cls="django", executor="celery"):
                for number in range(first, min(first + batch, n)):
                    airlock.enqueue(task, number)
        seconds["flush"].append(time.perf_counter() - start)
        if client.llen(QUEUE) != n:
            raise SystemExit(f"celery flush: {client.llen(QUEUE)} of {n} published")
        client.delete(QUEUE)
        insert_pending(n, "celery", TASK_NAME)
        start = time.perf_counter()
        tally = Relay(batch_size=batch).drain()
        seconds["relay"].append(time.perf_counter() - start)
        if tally.delivered != n or client.llen(QUEUE) != n:
            raise SystemExit(f"celery relay: {tally.describe()}, {client.llen(QUEUE)}")
        client.delete(QUEUE)
        clear()
    flush, relay = (statistics.median(seconds[k]) for k in ("flush", "relay"))
    return {
        "n": n,
        "batch": batch,
        "rounds": args.relay_rounds,
        "flush_per_second": n / flush,
        "relay_per_second": n / relay,
        "relay_vs_flush": flush / relay,
        "all_seconds": seconds,
    }


#: Intents the latency run sends first, to a relay that has just started, and does not count.
WARM_UP = 20


def notified_latency(args: argparse.Namespace, redis_url: str) -> dict[str, Any]:
    """Commit-to-run through ``airlock_relay --loop --interval 5`` woken by NOTIFY.

    One intent per transaction (FAST_PATH=False, sync executor running
    ``outbox_bench_tasks.stamp`` in the relay's process), paced at ``--rate``
    transactions/s for ``--latency-seconds``; each run's wall-clock time minus
    its transaction's commit time. A warm-up of ``WARM_UP`` intents goes first,
    uncounted: a relay's first rows wait for its imports (Celery's and
    Dramatiq's task registries, looked up on the first row: ~0.7 s here).
    """
    import subprocess

    import outbox_bench_tasks
    from django.conf import settings
    from django.db import connection, transaction

    client = redis.Redis.from_url(redis_url)
    client.delete(outbox_bench_tasks.STAMPS)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "outbox_bench_settings",
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
        "AIRLOCK_BENCH_REDIS_URL": redis_url,
        "AIRLOCK_BENCH_DB": settings.DATABASES["default"]["NAME"],
    }
    relay = subprocess.Popen(
        [sys.executable, "-m", "django", "airlock_relay", "--loop", "--interval", "5"],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    os.environ["AIRLOCK_BENCH_REDIS_URL"] = redis_url
    committed: dict[int, float] = {}
    count = int(args.rate * args.latency_seconds)
    try:
        from airlock_django.models import RelayHeartbeat

        deadline = time.monotonic() + 60
        while not RelayHeartbeat.objects.exists():  # the relay is up: its loop has begun
            if time.monotonic() > deadline or relay.poll() is not None:
                raise SystemExit("the relay did not start within 60 s")
            time.sleep(0.05)
        # warm-up, not measured: a relay's first rows pay its imports (the task registries)
        with use_fast_path(False), transaction.atomic(), airlock.scope(_cls="outbox"):
            for label in range(WARM_UP):
                airlock.enqueue(outbox_bench_tasks.stamp, -1 - label)
        while client.llen(outbox_bench_tasks.STAMPS) < WARM_UP:
            if time.monotonic() > deadline or relay.poll() is not None:
                raise SystemExit("the relay did not run the warm-up within 60 s")
            time.sleep(0.05)
        client.delete(outbox_bench_tasks.STAMPS)
        start = time.monotonic()
        with use_fast_path(False):
            for label in range(count):
                pause = start + label / args.rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                with transaction.atomic(), airlock.scope(_cls="outbox", executor="sync"):
                    with connection.cursor() as cursor:
                        cursor.execute("INSERT INTO airlock_bench_order (n) VALUES (%s)", [label])
                    airlock.enqueue(outbox_bench_tasks.stamp, label)
                committed[label] = time.time()
        deadline = time.monotonic() + 60
        while client.llen(outbox_bench_tasks.STAMPS) < count:
            if time.monotonic() > deadline or relay.poll() is not None:
                raise SystemExit("the relay did not run every intent within 60 s")
            time.sleep(0.05)
    finally:
        relay.terminate()
        relay.wait(timeout=30)
    ran = {
        int(label): float(moment)
        for label, moment in (
            entry.decode().split() for entry in client.lrange(outbox_bench_tasks.STAMPS, 0, -1)
        )
    }
    client.delete(outbox_bench_tasks.STAMPS)
    clear()
    in_order = [(ran[label] - committed[label]) * 1000 for label in sorted(committed)]
    latencies = sorted(in_order)
    slow = [(label, round(ms, 1)) for label, ms in enumerate(in_order) if ms > 50]
    return {
        "over_50_ms": slow,
        "rate": args.rate,
        "seconds": args.latency_seconds,
        "interval": 5,
        "n": count,
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "max_ms": latencies[-1],
    }


# -- report -------------------------------------------------------------------------


def targets_table(
    committed: list[dict[str, Any]],
    relay: list[dict[str, Any]],
    latency: dict[str, Any],
    celery: dict[str, Any],
) -> tuple[str, list[dict[str, Any]]]:
    """The issue's targets, each with what this run measured and whether it was met."""
    tps = {
        r["scope"]: r["transactions_per_second"]
        for r in committed
        if r["executor"] == "sync" and r["intents_per_transaction"] == 1
    }
    [drain] = [r for r in relay if r["executor"] == "sync" and r["batch_size"] == 500]
    before = tps["FAST_PATH=True, mark on disk"] / tps["DjangoScope"]
    found = [
        {
            "what": "committed tx/s, FAST_PATH=False / DjangoScope (1 effect, sync no-op)",
            "measured": f"{tps['Outbox FAST_PATH=False'] / tps['DjangoScope']:.2f}x",
            "target": ">= 0.8x",
            "met": tps["Outbox FAST_PATH=False"] / tps["DjangoScope"] >= 0.8,
        },
        {
            "what": "committed tx/s, FAST_PATH=True / DjangoScope (1 effect, sync no-op)",
            "measured": f"{tps['Outbox FAST_PATH=True'] / tps['DjangoScope']:.2f}x",
            "target": ">= 0.5x",
            "met": tps["Outbox FAST_PATH=True"] / tps["DjangoScope"] >= 0.5,
        },
        {
            "what": "  (the same, delivered-mark waiting for the disk, as before)",
            "measured": f"{before:.2f}x",
            "target": "",
            "met": before >= 0.5,
        },
        {
            "what": f"commit-to-run, notified relay, {latency['rate']:g} tx/s, --interval 5",
            "measured": f"p50 {latency['p50_ms']:.1f} ms, p99 {latency['p99_ms']:.1f} ms",
            "target": "p50 <= 20 ms, p99 <= 100 ms",
            "met": latency["p50_ms"] <= 20 and latency["p99_ms"] <= 100,
        },
        {
            "what": "relay drain, sync no-op, batch 500",
            "measured": f"{drain['rows_per_second']:,.0f} rows/s",
            "target": ">= 30,000 rows/s",
            "met": drain["rows_per_second"] >= 30_000,
        },
        {
            "what": "relay drain with Celery on Redis / Celery flush of the same intents",
            "measured": f"{celery['relay_vs_flush']:.2f}x",
            "target": ">= 0.75x",
            "met": celery["relay_vs_flush"] >= 0.75,
        },
    ]
    width = max(len(row["what"]) for row in found)
    lines = [f"{'':<{width}}  {'measured':<28} {'target':<28} met"]
    lines += [
        f"{row['what']:<{width}}  {row['measured']:<28} {row['target']:<28}"
        f" {('yes' if row['met'] else 'NO') if row['target'] else ''}"
        for row in found
    ]
    return "\n".join(lines), found


def committed_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        f"{'executor':<9} {'intents/txn':>11} {'scope':<22} {'N':>6} {'median s':>9}"
        f" {'intents/s':>10} {'txn/s':>8} {'us/intent':>10} {'vs Django':>10}"
    ]
    plain = {
        (r["executor"], r["intents_per_transaction"]): r["median_seconds"]
        for r in rows
        if r["scope"] == "DjangoScope"
    }
    for row in rows:
        ratio = plain[(row["executor"], row["intents_per_transaction"])] / row["median_seconds"]
        row["throughput_vs_django_scope"] = ratio
        lines.append(
            f"{row['executor']:<9} {row['intents_per_transaction']:>11} {row['scope']:<22}"
            f" {row['n']:>6} {row['median_seconds']:>9.3f} {row['intents_per_second']:>10.0f}"
            f" {row['transactions_per_second']:>8.0f}"
            f" {row['median_seconds'] / row['n'] * 1e6:>10.1f} {ratio:>9.2f}x"
        )
    return "\n".join(lines)


def relay_table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'executor':<9} {'batch':>6} {'rows':>7} {'median s':>9} {'rows/s':>9}"]
    for row in rows:
        lines.append(
            f"{row['executor']:<9} {row['batch_size']:>6} {row['rows']:>7}"
            f" {row['median_seconds']:>9.3f} {row['rows_per_second']:>9.0f}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="intents per round and scope")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per scope (median)")
    parser.add_argument("--relay-rows", type=int, default=10_000, help="pending rows to relay")
    parser.add_argument("--relay-rounds", type=int, default=3, help="relay rounds (median)")
    parser.add_argument("--redis-url", default=redis_url())
    parser.add_argument("--rate", type=float, default=100.0, help="tx/s of the latency run")
    parser.add_argument("--latency-seconds", type=float, default=10.0, help="its length")
    args = parser.parse_args()

    setup()
    client = redis.Redis.from_url(args.redis_url)
    app = make_app(args.redis_url)
    app.tasks[TASK_NAME].delay(0)  # connect and declare the queue before timing
    client.delete(QUEUE)
    try:
        committed = committed_rows(args, app, client)
        relay = relay_rows(args, client)
        celery_vs = celery_flush_vs_relay(args, app, client)
        latency = notified_latency(args, args.redis_url)
    finally:
        client.delete(QUEUE)
        clear()
        app.close()

    print(
        f"airlock outbox: committed intents, OutboxScope vs DjangoScope, PostgreSQL"
        f" (Python {platform.python_version()}, Django {django.get_version()},"
        f" celery {celery.__version__}, psycopg {psycopg.__version__}; medians of"
        f" {args.rounds} alternating rounds)"
    )
    print(committed_table(committed))
    print()
    print(f"airlock outbox: relay drain of {args.relay_rows} pending rows")
    print(relay_table(relay))
    print()
    print(
        f"Celery on Redis, {celery_vs['n']} intents: flush {celery_vs['flush_per_second']:,.0f}/s,"
        f" relay {celery_vs['relay_per_second']:,.0f}/s (medians of {celery_vs['rounds']})"
    )
    table, targets = targets_table(committed, relay, latency, celery_vs)
    print()
    print(f"airlock outbox: the targets of issue #18 ({os.cpu_count()} CPUs, shared)")
    print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "python": platform.python_version(),
                "django": django.get_version(),
                "celery": celery.__version__,
                "psycopg": psycopg.__version__,
                "cpus": os.cpu_count(),
                "committed": committed,
                "relay": relay,
                "celery_flush_vs_relay": celery_vs,
                "notified_latency": latency,
                "targets": targets,
            },
            indent=2,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
