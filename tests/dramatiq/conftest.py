"""dramatiq suite: Redis database 3, queues named ``dramatiq_*``, real worker processes.

One ``dramatiq`` worker process per broker (Redis, RabbitMQ) serves the whole
session; tests read what the actors wrote into Redis, with bounded waits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from redis import Redis

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
DB = 3
WAIT = 30.0


@pytest.fixture(scope="session")
def dq_redis_url(redis_url: str) -> str:
    return urlunsplit(urlsplit(redis_url)._replace(path=f"/{DB}"))


@pytest.fixture(scope="session")
def results_db(dq_redis_url: str) -> Iterator[Redis]:
    client = Redis.from_url(dq_redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture(autouse=True)
def defaults(fresh_airlock: None) -> None:
    """Every test starts from airlock's defaults (see tests/conftest.py)."""


def read(db: Redis, tag: str, key: str) -> list[str]:
    return [v.decode() for v in db.lrange(f"dramatiq_results:{tag}:{key}", 0, -1)]


def wait_for(db: Redis, tag: str, key: str, count: int) -> list[str]:
    """The first ``count`` values the workers wrote under ``key``; fail after ``WAIT`` s."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        values = read(db, tag, key)
        if len(values) >= count:
            return values
        time.sleep(0.05)
    pytest.fail(f"the worker wrote {read(db, tag, key)!r} under {key!r}, expected {count} values")


class App:
    """One broker's app module, its worker process, and its results."""

    def __init__(self, module: ModuleType, tag: str, db: Redis) -> None:
        self.module = module
        self.tag = tag
        self.db = db
        self.broker: Any = module.broker
        self.queue: str = module.QUEUE

    def __getattr__(self, name: str) -> Any:
        return getattr(self.module, name)

    def results(self, key: str) -> list[str]:
        return read(self.db, self.tag, key)

    def wait_for(self, key: str, count: int = 1) -> list[str]:
        return wait_for(self.db, self.tag, key, count)

    def drain(self) -> None:
        """Wait (bounded) until the worker has processed every message of the queue."""
        self.broker.join(self.queue, timeout=int(WAIT * 1000))


def _start_worker(
    module: str, env: dict[str, str], extra: list[str] | None = None, path: Path = HERE
) -> subprocess.Popen[bytes]:
    """``dramatiq <module> [extra modules]``: one process, two threads."""
    command = [sys.executable, "-m", "dramatiq", module, *(extra or [])]
    return subprocess.Popen(
        [*command, "--processes", "1", "--threads", "2", "--path", str(path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _stop_worker(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


def _app(module_name: str, tag: str, db: Redis, env: dict[str, str]) -> Iterator[App]:
    os.environ.update(env)
    sys.path.insert(0, str(HERE))
    module = __import__(module_name)
    app = App(module, tag, db)
    app.broker.flush_all()
    process = _start_worker(module_name, {**os.environ, **env})
    try:
        app.record.send("ready", 1)
        app.wait_for("ready")
        yield app
    finally:
        _stop_worker(process)
        app.broker.flush_all()


@pytest.fixture(scope="session")
def redis_app(dq_redis_url: str, results_db: Redis) -> Iterator[App]:
    yield from _app("dq_app_redis", "redis", results_db, {"DQ_REDIS_URL": dq_redis_url})


def pika_url(amqp_url: str) -> str:
    """The shared fixture's URL in pika's spelling: kombu's ``//`` is the vhost ``/``."""
    parts = urlsplit(amqp_url)
    if parts.path == "//":
        parts = parts._replace(path="/%2F")
    return urlunsplit(parts)


@pytest.fixture(scope="session")
def rabbit_app(dq_redis_url: str, amqp_url: str, results_db: Redis) -> Iterator[App]:
    env = {"DQ_REDIS_URL": dq_redis_url, "DQ_AMQP_URL": pika_url(amqp_url)}
    yield from _app("dq_app_rabbit", "rabbit", results_db, env)


@pytest.fixture(params=["redis", pytest.param("rabbit", marks=pytest.mark.rabbitmq)])
def app(request: pytest.FixtureRequest) -> App:
    """Each test that takes ``app`` runs on both brokers; results start empty."""
    chosen: App = request.getfixturevalue(f"{request.param}_app")
    for key in chosen.db.scan_iter("dramatiq_results:*"):
        chosen.db.delete(key)
    return chosen
