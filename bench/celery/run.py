"""Flushing N Celery intents through airlock versus a plain ``.delay()`` loop.

Side by side in one run, on Redis (database 1) and on RabbitMQ, with raw
redis-py pipelined LPUSH of payloads the size of a real message as the floor.
On RabbitMQ the flush runs with publisher confirms (the default: one wait per
batch) and without them, next to a ``.delay()`` loop with kombu's own
``confirm_publish`` (one wait per message). A second table times flushes of
a single intent, what a web request typically sends, against one ``.delay()``.
Both sides send the same task with the same arguments; every message lands in
the queue ``celery_bench``, which no worker consumes, is counted, and the queue
is emptied after each measurement. Each side is warmed up first (connection,
queue declaration, code paths), then the methods alternate within every round
(their order flips from round to round) and the table reports medians.

"airlock flush" times the flush alone (the scope's exit), which is what the
executor does; "airlock scope" times the whole block a user writes, the
``airlock.enqueue()`` calls included.

A third table times ``airlock.enqueue()`` alone (nothing is published), to show
what checking a Celery task's arguments with Celery's own check costs: a task
called with positional arguments, with keywords (the check runs at every
call), and one declared ``typing=False`` (not checked), each against a plain
function called the same way.

    python bench/celery/run.py                # N = 10,000, 5 rounds, 1,000 single flushes
    python bench/celery/run.py --n 500 --rounds 1 --single 100   # a quick smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import amqp
import celery
import kombu
import redis
from celery import Celery

import airlock
from airlock_celery import CeleryExecutor

QUEUE = "celery_bench"
RESULTS = Path(__file__).resolve().parents[1] / "results" / "celery.json"
PAYLOAD = "x" * 64
WARMUP = 200


def make_app(broker: str, **transport_options: Any) -> Celery:
    app = Celery("airlock_celery_bench", broker=broker, set_as_current=False)
    app.conf.update(task_default_queue=QUEUE, task_default_exchange=QUEUE,
                    task_default_routing_key=QUEUE,
                    broker_transport_options=transport_options)  # fmt: skip

    @app.task(name="bench.notify", shared=False)
    def notify(order_id: int, payload: str) -> None:
        """Never runs: nothing consumes the bench queue."""

    @app.task(name="bench.notify_unchecked", shared=False, typing=False)
    def notify_unchecked(order_id: int, payload: str) -> None:
        """Never runs: only enqueued."""

    return app


def plain_notify(order_id: int, payload: str) -> None:
    """The plain function the enqueue table compares Celery tasks with."""


class _Discard(Exception):
    """Ends a measuring scope without flushing it."""


def enqueue_loop(task: Any, n: int, *, keywords: bool) -> float:
    """Seconds of ``n`` ``airlock.enqueue()`` calls in one scope, which is then discarded."""
    start = end = 0.0
    try:
        with airlock.scope():
            start = time.perf_counter()
            if keywords:
                for number in range(n):
                    airlock.enqueue(task, order_id=number, payload=PAYLOAD)
            else:
                for number in range(n):
                    airlock.enqueue(task, number, PAYLOAD)
            end = time.perf_counter()
            raise _Discard
    except _Discard:
        pass
    return end - start


#: The enqueue table's rows: (row, task name or None for the plain function, keywords).
ENQUEUES = (
    ("plain function", None, False),
    ("Celery task", "bench.notify", False),
    ("plain function, keywords", None, True),
    ("Celery task, keywords", "bench.notify", True),
    ("Celery task typing=False, keywords", "bench.notify_unchecked", True),
)


def enqueue_costs(n: int, rounds: int) -> list[dict[str, Any]]:
    """Median seconds of ``n`` enqueues per row, rounds alternating, nothing published."""
    app = make_app("memory://")
    tasks = {name: app.tasks[name] if name else plain_notify for _, name, _ in ENQUEUES}
    samples: dict[str, list[float]] = {}
    for round_number in range(rounds + 1):  # round 0 warms up (and compiles the checks)
        order = ENQUEUES if round_number % 2 == 0 else ENQUEUES[::-1]
        for row, name, keywords in order:
            seconds = enqueue_loop(tasks[name], n, keywords=keywords)
            if round_number:
                samples.setdefault(row, []).append(seconds)
    app.close()
    rows = []
    for row, _, keywords in ENQUEUES:
        baseline = "plain function, keywords" if keywords else "plain function"
        seconds = statistics.median(samples[row])
        rows.append(
            {
                "method": row,
                "n": n,
                "seconds": seconds,
                "samples": samples[row],
                "us_per_enqueue": seconds * 1e6 / n,
                "vs_plain_function": seconds / statistics.median(samples[baseline]),
            }
        )
    return rows


def enqueue_table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'method':<36} {'N':>7} {'us/enqueue':>11} {'vs plain function':>18}"]
    for row in rows:
        lines.append(
            f"{row['method']:<36} {row['n']:>7} {row['us_per_enqueue']:>11.2f}"
            f" {row['vs_plain_function']:>17.2f}x"
        )
    return "\n".join(lines)


def delay_loop(app: Celery, n: int) -> float:
    """What a user writes today: one ``.delay()`` per task."""
    task = app.tasks["bench.notify"]
    start = time.perf_counter()
    for number in range(n):
        task.delay(number, PAYLOAD)
    return time.perf_counter() - start


def airlock_flush(app: Celery, n: int, executor: CeleryExecutor) -> tuple[float, float]:
    """The same tasks through a scope: (seconds of the flush, seconds of the whole block)."""
    task = app.tasks["bench.notify"]
    start = time.perf_counter()
    with airlock.scope(executor=executor):
        for number in range(n):
            airlock.enqueue(task, number, PAYLOAD)
        flush_start = time.perf_counter()  # the flush happens as the block ends
    end = time.perf_counter()
    return end - flush_start, end - start


def single_delays(app: Celery, n: int) -> float:
    """``n`` separate ``.delay()`` calls: the cost of one, as a request pays it."""
    return delay_loop(app, n)


def single_flushes(app: Celery, n: int, executor: CeleryExecutor) -> float:
    """``n`` scopes of one intent each, flushed one after the other."""
    task = app.tasks["bench.notify"]
    start = time.perf_counter()
    for number in range(n):
        with airlock.scope(executor=executor):
            airlock.enqueue(task, number, PAYLOAD)
    return time.perf_counter() - start


def raw_lpush(client: redis.Redis, n: int, payload: bytes) -> float:
    start = time.perf_counter()
    pipe = client.pipeline(transaction=False)
    for number in range(n):
        pipe.lpush(QUEUE, payload)
        if number % 1000 == 999:
            pipe.execute()
    pipe.execute()
    return time.perf_counter() - start


class Side:
    """One broker: how to run each method, count what arrived, and empty the queue."""

    def __init__(self, broker: str, url: str, batch_size: int) -> None:
        self.broker = broker
        self.app = make_app(url)
        self.confirming = CeleryExecutor(batch_size=batch_size)
        self.unconfirmed = CeleryExecutor(batch_size=batch_size, publisher_confirms=False)
        self.client = redis.Redis.from_url(url) if broker == "redis" else None
        #: RabbitMQ only: kombu's own per-message publisher confirms.
        self.confirm_app = None if self.client else make_app(url, confirm_publish=True)
        for app in (self.app, self.confirm_app):
            if app is not None:
                app.tasks["bench.notify"].delay(0, PAYLOAD)  # connect and declare the queue
        self.payload = b""  # a real message, for the LPUSH floor
        if self.client is not None:
            self.payload = self.client.lindex(QUEUE, 0) or b""
        self.purge()

    def methods(self) -> dict[str, Callable[[int], dict[str, float]]]:
        """Batch methods: N intents in one go (each returns its rows' seconds)."""

        def flush(n: int) -> dict[str, float]:
            flush_seconds, scope_seconds = airlock_flush(self.app, n, self.confirming)
            return {"airlock flush": flush_seconds, "airlock scope": scope_seconds}

        methods = {
            ".delay() loop": lambda n: {".delay() loop": delay_loop(self.app, n)},
            "airlock": flush,
        }
        if self.confirm_app is not None:
            confirm_app = self.confirm_app

            def unconfirmed(n: int) -> dict[str, float]:
                flush_seconds, _ = airlock_flush(self.app, n, self.unconfirmed)
                return {"airlock flush, no confirms": flush_seconds}

            methods["unconfirmed"] = unconfirmed
            methods["confirm_publish"] = lambda n: {
                ".delay() loop, confirm_publish": delay_loop(confirm_app, n)
            }
        if self.client is not None:
            client, payload = self.client, self.payload
            methods["raw"] = lambda n: {"raw pipelined LPUSH": raw_lpush(client, n, payload)}
        return methods

    def single_methods(self) -> dict[str, Callable[[int], dict[str, float]]]:
        """One intent at a time, ``n`` times: what a web request pays per flush."""
        methods = {
            ".delay()": lambda n: {".delay()": single_delays(self.app, n)},
            "airlock": lambda n: {
                "airlock flush of 1": single_flushes(self.app, n, self.confirming)
            },
        }
        if self.confirm_app is not None:
            methods["unconfirmed"] = lambda n: {
                "airlock flush of 1, no confirms": single_flushes(self.app, n, self.unconfirmed)
            }
        return methods

    def count(self, n: int) -> int:
        if self.client is not None:
            return int(self.client.llen(QUEUE))
        # RabbitMQ counts published messages asynchronously: wait (bounded) until all are in.
        deadline = time.monotonic() + 30
        count = 0
        with self.app.connection_for_write() as connection:
            channel = connection.default_channel
            while time.monotonic() < deadline:
                count = channel.queue_declare(QUEUE, passive=True).message_count
                if count >= n:
                    break
                time.sleep(0.05)
        return int(count)

    def purge(self) -> None:
        if self.client is not None:
            self.client.delete(QUEUE)
            return
        with self.app.connection_for_write() as connection:
            connection.default_channel.queue_purge(QUEUE)

    def close(self) -> None:
        if self.client is None:
            with self.app.connection_for_write() as connection:
                connection.default_channel.queue_delete(QUEUE)
        for app in (self.app, self.confirm_app):
            if app is not None:
                app.close()


def measure(
    side: Side, methods: dict[str, Callable[[int], dict[str, float]]], n: int, rounds: int
) -> dict[str, list[float]]:
    """Warm every method up, then ``rounds`` alternating rounds; every sample of each row."""
    for run in methods.values():
        run(min(n, WARMUP))
        side.purge()
    samples: dict[str, list[float]] = {}
    order = list(methods)
    for round_number in range(rounds):
        for method in order if round_number % 2 == 0 else order[::-1]:
            timings = methods[method](n)
            count = side.count(n)
            side.purge()
            if count != n:
                raise SystemExit(f"{side.broker} {method}: expected {n} messages, found {count}")
            for row, seconds in timings.items():
                samples.setdefault(row, []).append(seconds)
    return samples


ROW_ORDER = (
    ".delay() loop",
    ".delay() loop, confirm_publish",
    "airlock flush",
    "airlock flush, no confirms",
    "airlock scope",
    "raw pipelined LPUSH",
    ".delay()",
    "airlock flush of 1",
    "airlock flush of 1, no confirms",
)


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        f"{'broker':<9} {'method':<32} {'N':>7} {'seconds':>9} {'us/msg':>8} {'msgs/s':>9}"
        f" {'vs .delay()':>12}",
    ]
    for row in rows:
        lines.append(
            f"{row['broker']:<9} {row['method']:<32} {row['n']:>7} {row['seconds']:>9.3f}"
            f" {row['seconds'] * 1e6 / row['n']:>8.1f} {row['per_second']:>9.0f}"
            f" {row['speedup_vs_delay']:>11.1f}x"
        )
    return "\n".join(lines)


def rows_for(
    broker: str, n: int, samples: dict[str, list[float]], baseline_row: str
) -> list[dict[str, Any]]:
    baseline = statistics.median(samples[baseline_row])
    rows = []
    for method in ROW_ORDER:
        if method not in samples:
            continue
        seconds = statistics.median(samples[method])
        rows.append(
            {
                "broker": broker,
                "method": method,
                "n": n,
                "seconds": seconds,
                "samples": samples[method],
                "per_second": n / seconds,
                "speedup_vs_delay": baseline / seconds,
            }
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="intents per measurement")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (medians)")
    parser.add_argument("--batch-size", type=int, default=1000, help="messages per pipeline")
    parser.add_argument("--single", type=int, default=1000, help="flushes of one intent")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("AIRLOCK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[
            0
        ]
        + "/1",
    )
    parser.add_argument(
        "--amqp-url",
        default=os.environ.get("AIRLOCK_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"),
    )
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    singles: list[dict[str, Any]] = []
    for broker, url in (("redis", args.redis_url), ("rabbitmq", args.amqp_url)):
        side = Side(broker, url, args.batch_size)
        try:
            samples = measure(side, side.methods(), args.n, args.rounds)
            rows += rows_for(broker, args.n, samples, ".delay() loop")
            samples = measure(side, side.single_methods(), args.single, args.rounds)
            singles += rows_for(broker, args.single, samples, ".delay()")
        finally:
            side.close()
    print(
        f"airlock-celery: flush of N={args.n} intents vs .delay() loop, median of"
        f" {args.rounds} alternating rounds (Python {platform.python_version()},"
        f" celery {celery.__version__}, kombu {kombu.__version__}, py-amqp {amqp.__version__},"
        f" redis-py {redis.__version__},"
        f" kombu Producer.batch: {'yes' if hasattr(kombu.Producer, 'batch') else 'no'})"
    )
    print(table(rows))
    print(f"\nFlushes of one intent, {args.single} after another, vs one .delay() each:")
    print(table(singles))
    enqueues = enqueue_costs(args.n, args.rounds)
    print("\nairlock.enqueue() alone (no broker), per call, vs a plain function called alike:")
    print(enqueue_table(enqueues))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "n": args.n,
                "rounds": args.rounds,
                "batch_size": args.batch_size,
                "python": platform.python_version(),
                "celery": celery.__version__,
                "kombu": kombu.__version__,
                "py_amqp": amqp.__version__,
                "redis_py": redis.__version__,
                "single": args.single,
                "rows": rows,
                "single_rows": singles,
                "enqueue_rows": enqueues,
            },
            indent=2,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
