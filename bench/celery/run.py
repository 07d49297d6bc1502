"""Flushing N Celery intents through airlock versus a plain ``.delay()`` loop.

Side by side in one run, on Redis (database 1) and on RabbitMQ, with raw
redis-py pipelined LPUSH of same-sized payloads as the floor. Every message
lands in the queue ``celery_bench``, which no worker consumes and which is
emptied after each measurement.

    python bench/celery/run.py              # N = 10,000
    python bench/celery/run.py --n 500      # a quick smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import celery
import kombu
import redis
from celery import Celery

import airlock
from airlock_celery import CeleryExecutor

QUEUE = "celery_bench"
RESULTS = Path(__file__).resolve().parents[1] / "results" / "celery.json"
PAYLOAD = "x" * 64


def make_app(broker: str) -> Celery:
    app = Celery("airlock_celery_bench", broker=broker, set_as_current=False)
    app.conf.update(task_default_queue=QUEUE, task_default_exchange=QUEUE,
                    task_default_routing_key=QUEUE)  # fmt: skip

    @app.task(name="bench.notify", shared=False)
    def notify(order_id: int, payload: str) -> None:
        """Never runs: nothing consumes the bench queue."""

    return app


def delay_loop(app: Celery, n: int) -> float:
    task = app.tasks["bench.notify"]
    start = time.perf_counter()
    for number in range(n):
        task.delay(number, PAYLOAD)
    return time.perf_counter() - start


def airlock_flush(app: Celery, n: int, executor: CeleryExecutor) -> float:
    task = app.tasks["bench.notify"]
    with airlock.scope(executor=executor):
        for number in range(n):
            airlock.enqueue(task, number, PAYLOAD)
        start = time.perf_counter()  # the flush happens as the block ends
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


def redis_rows(url: str, n: int, executor: CeleryExecutor) -> list[dict[str, Any]]:
    client = redis.Redis.from_url(url)
    app = make_app(url)
    app.tasks["bench.notify"].delay(0, PAYLOAD)  # connect and declare before timing
    payload = client.lindex(QUEUE, 0) or b""
    client.delete(QUEUE)
    rows = []
    for method, run in (
        (".delay() loop", lambda: delay_loop(app, n)),
        ("airlock flush", lambda: airlock_flush(app, n, executor)),
        ("raw pipelined LPUSH", lambda: raw_lpush(client, n, payload)),
    ):
        seconds = run()
        count = client.llen(QUEUE)
        client.delete(QUEUE)
        if count != n:
            raise SystemExit(f"{method}: expected {n} messages in {QUEUE}, found {count}")
        rows.append({"broker": "redis", "method": method, "n": n, "seconds": seconds})
    app.close()
    return rows


def amqp_rows(url: str, n: int, executor: CeleryExecutor) -> list[dict[str, Any]]:
    app = make_app(url)
    app.tasks["bench.notify"].delay(0, PAYLOAD)
    rows = []
    with kombu.Connection(url) as connection:
        channel = connection.channel()
        channel.queue_purge(QUEUE)
        for method, run in (
            (".delay() loop", lambda: delay_loop(app, n)),
            ("airlock flush", lambda: airlock_flush(app, n, executor)),
        ):
            seconds = run()
            count = _settled_count(channel, n)
            channel.queue_purge(QUEUE)
            if count != n:
                raise SystemExit(f"{method}: expected {n} messages in {QUEUE}, found {count}")
            rows.append({"broker": "rabbitmq", "method": method, "n": n, "seconds": seconds})
        channel.queue_delete(QUEUE)
    app.close()
    return rows


def _settled_count(channel: Any, n: int) -> int:
    """RabbitMQ counts published messages asynchronously: wait (bounded) until all are in."""
    deadline = time.monotonic() + 30
    count = 0
    while time.monotonic() < deadline:
        count = channel.queue_declare(QUEUE, passive=True).message_count
        if count >= n:
            break
        time.sleep(0.05)
    return int(count)


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        f"{'broker':<9} {'method':<22} {'N':>7} {'seconds':>9} {'msgs/s':>10} {'vs .delay()':>12}",
    ]
    baseline = {r["broker"]: r["seconds"] for r in rows if r["method"] == ".delay() loop"}
    for row in rows:
        row["per_second"] = row["n"] / row["seconds"]
        row["speedup_vs_delay"] = baseline[row["broker"]] / row["seconds"]
        lines.append(
            f"{row['broker']:<9} {row['method']:<22} {row['n']:>7} {row['seconds']:>9.3f}"
            f" {row['per_second']:>10.0f} {row['speedup_vs_delay']:>11.1f}x"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="intents per measurement")
    parser.add_argument("--batch-size", type=int, default=1000, help="messages per pipeline")
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
    executor = CeleryExecutor(batch_size=args.batch_size)
    rows = redis_rows(args.redis_url, args.n, executor) + amqp_rows(args.amqp_url, args.n, executor)
    print(
        f"airlock-celery: flush of N={args.n} intents vs .delay() loop"
        f" (Python {platform.python_version()}, celery {celery.__version__},"
        f" kombu {kombu.__version__}, redis-py {redis.__version__},"
        f" kombu Producer.batch: {'yes' if hasattr(kombu.Producer, 'batch') else 'no'})"
    )
    print(table(rows))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "n": args.n,
                "batch_size": args.batch_size,
                "python": platform.python_version(),
                "celery": celery.__version__,
                "kombu": kombu.__version__,
                "redis_py": redis.__version__,
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
