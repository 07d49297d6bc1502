"""The benchmark's tasks: ``noop`` counts its calls; ``stamp`` reports when it ran."""

import os
import time

import redis

#: Calls since the benchmark pushed a fresh counter.
CALLS: list[int] = [0]
#: The Redis list ``stamp`` reports to: "<label> <time.time()>" per run.
STAMPS = "outbox_bench_latency"
_client: list[redis.Redis] = []


def noop(*args: object) -> None:
    """Count the call."""
    CALLS[-1] += 1


def stamp(label: int) -> None:
    """Push when it ran (wall clock: the committing process is another one)."""
    if not _client:
        _client.append(redis.Redis.from_url(os.environ["AIRLOCK_BENCH_REDIS_URL"]))
    _client[0].rpush(STAMPS, f"{label} {time.time()}")
