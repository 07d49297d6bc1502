"""huey suite: Redis database 8, a SQLite file, and real ``huey_consumer`` processes.

One consumer per storage per session, each with one worker thread, so tasks
run one after another in the order they were queued: a test that waits for a
marker task it queued last knows that everything queued before it has run.
Every wait is bounded; a consumer that is down fails the test, never hangs it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from huey_effects import read

import airlock

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
DB = 8
WAIT = 30.0  # seconds a test waits for the consumer, at most

_base = os.environ.get("AIRLOCK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
_scratch = Path(tempfile.mkdtemp(prefix="airlock-huey-"))
# The apps read these when imported, here and in the consumers.
os.environ["HUEY_REDIS_URL"] = urlunsplit(urlsplit(_base)._replace(path=f"/{DB}"))
os.environ["HUEY_SQLITE_PATH"] = str(_scratch / "huey.sqlite3")
os.environ["HUEY_TEST_LOG"] = str(_scratch / "effects.log")
LOG = Path(os.environ["HUEY_TEST_LOG"])


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_scratch, ignore_errors=True)


@pytest.fixture(scope="session")
def huey_redis_url(redis_url: str) -> str:
    """Redis database 8 (after checking that Redis answers), emptied once per session."""
    from redis import Redis

    client = Redis.from_url(os.environ["HUEY_REDIS_URL"])
    client.flushdb()
    client.close()
    return os.environ["HUEY_REDIS_URL"]


@pytest.fixture(autouse=True)
def defaults(fresh_airlock: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("AIRLOCK_EXECUTOR", raising=False)
    yield
    assert airlock.get_current_scope() is None, "a test left a scope open"


@pytest.fixture
def key(request: pytest.FixtureRequest) -> str:
    """A log key of this test's own."""
    return f"{request.node.name}-{uuid.uuid4().hex[:8]}"


class Consumer:
    """A running ``huey_consumer`` for ``app`` (a module with ``huey`` and a ``record`` task)."""

    def __init__(self, app: str) -> None:
        self.app = app
        command = [sys.executable, "-m", "huey.bin.huey_consumer", f"{app}.huey"]
        command += ["-w", "1", "-k", "thread", "-s", "1", "-d", "0.05", "-m", "0.2", "-q"]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT)])}
        env.pop("AIRLOCK_EXECUTOR", None)
        self.process = subprocess.Popen(
            command, cwd=HERE, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )

    def wait_for(self, key: str, count: int = 1) -> list[str]:
        """The values logged under ``key`` once there are ``count``; fail after ``WAIT``."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            values = read(LOG, key)
            if len(values) >= count:
                return values
            assert self.process.poll() is None, f"the consumer died: {self.output()}"
            time.sleep(0.05)
        pytest.fail(f"{key!r}: {read(LOG, key)} after {WAIT}s, expected {count} value(s)")

    def settle(self, huey: Any) -> None:
        """Return once every task queued so far (and what they queued) has run."""
        for _ in range(3):  # tasks run by a marker's predecessors may queue more tasks
            marker = f"marker-{uuid.uuid4().hex}"
            huey_module = sys.modules[self.app]
            huey_module.record(marker, "done")
            self.wait_for(marker)
        assert huey.pending_count() == 0

    def output(self) -> str:
        if self.process.poll() is None:
            return "(still running)"
        assert self.process.stdout is not None
        return self.process.stdout.read().decode(errors="replace")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture(scope="session")
def redis_consumer(huey_redis_url: str) -> Iterator[Consumer]:
    """``huey_consumer redis_app.huey`` for the whole session."""
    consumer = Consumer("redis_app")
    yield consumer
    consumer.stop()


@pytest.fixture(scope="session")
def sqlite_consumer() -> Iterator[Consumer]:
    """``huey_consumer sqlite_app.huey`` for the whole session."""
    import sqlite_app

    sqlite_app.huey.flush()
    consumer = Consumer("sqlite_app")
    yield consumer
    consumer.stop()


@pytest.fixture
def logged() -> Callable[[str], list[str]]:
    """What the tasks logged under a key so far."""
    return lambda key: read(LOG, key)
