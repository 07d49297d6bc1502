"""django_q suite: PostgreSQL, Redis database 9 and real ``qcluster`` processes.

One cluster per broker per session (the ORM broker on the test database, and
Redis), each with one worker, started when a test first needs it. Tasks log
their effects to a file both sides read; every wait is bounded, and a cluster
that is down fails the test, never hangs it.
"""

from __future__ import annotations

import contextlib
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

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
WAIT = 30.0  # seconds a test waits for a cluster, at most

_scratch = Path(tempfile.mkdtemp(prefix="airlock-django-q-"))
os.environ["DQ_TEST_LOG"] = str(_scratch / "effects.log")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dq_settings")
LOG = Path(os.environ["DQ_TEST_LOG"])


def pytest_configure(config: pytest.Config) -> None:
    import django

    django.setup()


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_scratch, ignore_errors=True)


def logged(key: str) -> list[str]:
    """The values logged under ``key`` so far, in order."""
    if not LOG.exists():
        return []
    pairs = (line.split(" ", 1) for line in LOG.read_text().splitlines())
    return [value for name, value in pairs if name == key]


@pytest.fixture
def key(request: pytest.FixtureRequest) -> str:
    """A log key of this test's own."""
    return f"{request.node.name}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(autouse=True)
def no_scope_left_open() -> Iterator[None]:
    import airlock

    yield
    assert airlock.get_current_scope() is None, "a test left a scope open"


@pytest.fixture(scope="session")
def redis_db(redis_url: str) -> str:
    """Redis database 9, emptied once per session."""
    from dq_settings import REDIS_URL
    from redis import Redis

    client = Redis.from_url(REDIS_URL)
    client.flushdb()
    client.close()
    return REDIS_URL


class Cluster:
    """A running ``qcluster`` on one broker (``orm`` or ``redis``)."""

    def __init__(self, broker: str, database: str) -> None:
        env = {**os.environ, "DQ_BROKER": broker, "DQ_DB_NAME": database}
        examples = ROOT / "docs" / "examples" / "django_q"  # the docs' tasks run here too
        env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(examples), env.get("PYTHONPATH", "")])
        self.process = subprocess.Popen(
            [sys.executable, "-m", "django", "qcluster"],
            cwd=HERE,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the cluster's own processes form one group
        )

    def wait_for(self, key: str, count: int = 1) -> list[str]:
        """The values logged under ``key`` once there are ``count``; fail after ``WAIT``."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            values = logged(key)
            if len(values) >= count:
                return values
            assert self.process.poll() is None, f"the cluster died: {self.output()}"
            time.sleep(0.05)
        pytest.fail(f"{key!r}: {logged(key)} after {WAIT}s, expected {count} value(s)")

    def wait_for_row(self, name: str) -> None:
        """Return once the cluster saved the task called ``name``; fail after ``WAIT``."""
        from django_q.models import Task

        self.wait_until(lambda: Task.objects.filter(name=name).exists(), f"a task named {name!r}")

    def wait_until(self, condition: Callable[[], bool], what: str) -> None:
        """Return once ``condition()`` holds; fail after ``WAIT``."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if condition():
                return
            assert self.process.poll() is None, f"the cluster died: {self.output()}"
            time.sleep(0.05)
        pytest.fail(f"the cluster saved no {what} within {WAIT}s")

    def output(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.read().decode(errors="replace")

    def stop(self) -> None:
        """Stop the cluster as Ctrl-C would (bounded), then end whatever of it is left."""
        group = os.getpgid(self.process.pid)
        self.process.send_signal(signal.SIGTERM)  # the cluster stops its own processes
        try:
            self.process.wait(timeout=20)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
            self.process.wait(timeout=20)
            if self.process.stdout is not None:
                self.process.stdout.close()


def _database_name() -> str:
    from django.db import connection

    return str(connection.settings_dict["NAME"])


@pytest.fixture(scope="session")
def orm_cluster(django_db_setup: None, django_db_blocker: Any) -> Iterator[Cluster]:
    """``qcluster`` on the ORM broker (the test database) for the whole session."""
    cluster = Cluster("orm", _database_name())
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def redis_cluster(
    django_db_setup: None, redis_db: str, django_db_blocker: Any
) -> Iterator[Cluster]:
    """``qcluster`` on the Redis broker for the whole session."""
    cluster = Cluster("redis", _database_name())
    yield cluster
    cluster.stop()


@pytest.fixture
def redis_broker(redis_db: str) -> Any:
    """A django-q2 Redis broker on the queue the Redis cluster reads."""
    from django_q.brokers.redis_broker import Redis
    from django_q.conf import Conf

    return Redis(list_key=Conf.CLUSTER_NAME)
