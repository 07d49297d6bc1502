"""Committed-intent throughput through the outbox versus a plain DjangoScope; relay rows/s.

On PostgreSQL, in a database of its own (airlock_bench, created if missing;
AIRLOCK_BENCH_DB names another). Every transaction inserts one application
row and enqueues 1 or 100 intents, through ``DjangoScope`` (published after
the commit, nothing stored) or ``OutboxScope`` (the same plus an INSERT of the
rows in the transaction and an UPDATE marking them delivered after the
publish). Two executors: ``sync`` running a no-op task, which leaves the
outbox's own cost, and ``celery`` on Redis (database 5, queue
``outbox_bench``, which no worker consumes and which is emptied after each
round). The two scopes alternate round by round in one run; the table shows
medians.

The relay: N pending rows inserted up front, then ``Relay(batch_size=B).drain()``
timed for a couple of batch sizes, rounds alternating.

    python bench/outbox/run.py                                   # defaults below
    python bench/outbox/run.py --n 200 --relay-rows 1000 --rounds 3   # a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Callable
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
SCOPES = {"DjangoScope": "django", "OutboxScope": "outbox"}


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
                for name, scope in SCOPES.items():
                    outbox_bench_tasks.CALLS.append(0)
                    seconds[name].append(transactions(scope, executor, task, per_transaction, n))
                    count = published()
                    if count != n:
                        raise SystemExit(f"{name}/{executor}: {count} of {n} intents published")
                    stored = OutboxMessage.objects.filter(status=OutboxMessage.DELIVERED).count()
                    if stored != (n if name == "OutboxScope" else 0):
                        raise SystemExit(f"{name}/{executor}: {stored} delivered rows")
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


# -- report -------------------------------------------------------------------------


def committed_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        f"{'executor':<9} {'intents/txn':>11} {'scope':<12} {'N':>6} {'median s':>9}"
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
            f"{row['executor']:<9} {row['intents_per_transaction']:>11} {row['scope']:<12}"
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
    args = parser.parse_args()

    setup()
    client = redis.Redis.from_url(args.redis_url)
    app = make_app(args.redis_url)
    app.tasks[TASK_NAME].delay(0)  # connect and declare the queue before timing
    client.delete(QUEUE)
    try:
        committed = committed_rows(args, app, client)
        relay = relay_rows(args, client)
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
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "python": platform.python_version(),
                "django": django.get_version(),
                "celery": celery.__version__,
                "psycopg": psycopg.__version__,
                "committed": committed,
                "relay": relay,
            },
            indent=2,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
