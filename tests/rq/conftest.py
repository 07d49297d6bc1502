"""rq suite: Redis database 4, queues named ``rq_*``, real ``rq worker`` processes.

Workers run in burst mode (``rq worker --burst``): they process every job,
including the jobs those jobs enqueue, and exit when the queues are empty, so a
test knows for certain that nothing else will run. They are RQ's own worker
without its command listener (burst_worker.py says why).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from redis import Redis

import airlock
import airlock_rq

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
DB = 4
WORKER_TIMEOUT = 60


@pytest.fixture(scope="session")
def rq_url(redis_url: str) -> str:
    parts = urlsplit(redis_url)
    return urlunsplit(parts._replace(path=f"/{DB}"))


@pytest.fixture
def connection(rq_url: str) -> Iterator[Redis]:
    client = Redis.from_url(rq_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture(autouse=True)
def defaults(fresh_airlock: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """airlock's and airlock-rq's defaults, with no connection from the environment."""
    monkeypatch.delenv("AIRLOCK_RQ_URL", raising=False)
    monkeypatch.delenv("AIRLOCK_EXECUTOR", raising=False)
    airlock_rq.reset_configuration()
    yield
    airlock_rq.reset_configuration()
    assert airlock.get_current_scope() is None, "a test left a scope open"


@pytest.fixture
def configured(connection: Redis) -> Redis:
    """airlock_rq publishes to database 4."""
    airlock_rq.configure(connection=connection)
    return connection


def results(connection: Redis, key: str) -> list[str]:
    return [v.decode() for v in connection.lrange(f"rq_results:{key}", 0, -1)]


@pytest.fixture
def run_worker(rq_url: str) -> Callable[..., None]:
    """Run ``rq worker --burst`` on ``queues`` until they are empty (bounded).

    ``scheduler=True`` adds ``--with-scheduler``: the worker first enqueues the
    scheduled jobs that are due.
    """

    def run(
        *queues: str,
        job_class: str | None = None,
        env: dict[str, str] | None = None,
        path: Path = HERE,
        scheduler: bool = False,
    ) -> None:
        command = [sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", rq_url]
        command += ["--path", str(path), "--path", str(HERE), "--logging_level", "WARNING"]
        command += ["--worker-class", "burst_worker.BurstWorker"]
        if job_class:
            command += ["--job-class", job_class]
        if scheduler:  # in burst mode: first move the scheduled jobs that are due to their queue
            command += ["--with-scheduler"]
        environment = {**os.environ, **(env or {})}
        environment.pop("AIRLOCK_RQ_URL", None)
        completed = subprocess.run(
            [*command, *queues],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=WORKER_TIMEOUT,
            check=False,
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr

    return run
