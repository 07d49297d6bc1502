"""Celery suite: real Redis (databases 1 and 2) and RabbitMQ, real worker processes.

Redis database 1 is the broker, database 2 holds what the workers observed.
Every queue and exchange this suite creates starts with ``celery_``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from celery import Celery
from kombu import Connection
from worker_app import EMAILS, INTERCEPT_QUEUE, OBS_PREFIX, QUEUE, make_app

from airlock_celery import uninstall_global_intercept

HERE = Path(__file__).parent
BROKER_DB = 1
OBSERVE_DB = 2
WORKER_START_TIMEOUT = 60.0
OBSERVE_TIMEOUT = 30.0


def _db(url: str, number: int) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{number}"))


@pytest.fixture(scope="session")
def broker_redis_url(redis_url: str) -> str:
    return _db(redis_url, BROKER_DB)


@pytest.fixture(scope="session")
def observe_url(redis_url: str) -> str:
    return _db(redis_url, OBSERVE_DB)


@pytest.fixture(scope="session", autouse=True)
def clean_databases(redis_url: str) -> None:
    """Start from empty databases 1 and 2 (ours alone; never FLUSHALL)."""
    for number in (BROKER_DB, OBSERVE_DB):
        redis.Redis.from_url(_db(redis_url, number)).flushdb()


@pytest.fixture(autouse=True)
def defaults(fresh_airlock: None) -> Iterator[None]:
    """Every test starts from airlock's defaults, and ends with no intercept installed."""
    yield
    uninstall_global_intercept()


@pytest.fixture(scope="session")
def redis_broker(redis_url: str) -> redis.Redis:
    """A plain client on the broker database, to look at queues directly."""
    return redis.Redis.from_url(_db(redis_url, BROKER_DB))


class Observations:
    """What the workers reported, read from the observation database with bounded waits."""

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url)

    def label(self) -> str:
        return uuid.uuid4().hex[:12]

    def get(self, label: str) -> list[dict[str, Any]]:
        return [json.loads(raw) for raw in self.client.lrange(OBS_PREFIX + label, 0, -1)]

    def wait(
        self, label: str, count: int = 1, timeout: float = OBSERVE_TIMEOUT
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            seen = self.get(label)
            if len(seen) >= count:
                return seen
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the worker reported {len(seen)} of {count} observations for {label!r}"
                    f" within {timeout}s: {seen}"
                )
            time.sleep(0.05)


@pytest.fixture(scope="session")
def observations(observe_url: str) -> Observations:
    return Observations(observe_url)


class Worker:
    """A ``celery worker`` subprocess on some queues, killed at teardown."""

    def __init__(
        self, name: str, broker: str, observe: str, queues: str, intercept: bool, logs: Path
    ) -> None:
        self.hostname = f"{name}@airlock-tests"
        self.log = logs / f"worker-{name}.log"
        env = {
            **os.environ,
            "AIRLOCK_CELERY_BROKER": broker,
            "AIRLOCK_CELERY_OBSERVE": observe,
            "AIRLOCK_CELERY_INTERCEPT": "1" if intercept else "0",
            "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
        }
        env.pop("AIRLOCK_EXECUTOR", None)
        command = [
            sys.executable, "-m", "celery", "-A", "worker_app:app", "worker",
            "-P", "solo", "-Q", queues, "-n", self.hostname, "-l", "WARNING",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        self._log_file = self.log.open("wb")
        self.process = subprocess.Popen(
            command, cwd=HERE, env=env, stdout=self._log_file, stderr=subprocess.STDOUT
        )

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)
        self._log_file.close()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


class Broker:
    """One broker with its workers: ``default`` (celery_default), ``emails``, ``intercept``."""

    def __init__(
        self, kind: str, url: str, observe: str, observations: Observations, logs: Path
    ) -> None:
        self.kind = kind
        self.logs = logs
        self.url = url
        self.app: Celery = make_app(url, observe, name=f"airlock_celery_tests_{kind}")
        self.tasks = self.app.tasks
        self.workers: dict[str, Worker] = {}
        self._observe = observe
        self._observations = observations

    def task(self, short: str) -> Any:
        return self.app.tasks[f"airlock_tests.{short}"]

    def start(self, specs: dict[str, tuple[str, bool]]) -> None:
        for name, (queues, intercept) in specs.items():
            self.workers[name] = Worker(
                f"{self.kind}-{name}", self.url, self._observe, queues, intercept, self.logs
            )
        record = self.task("record")
        for name, (queues, _) in specs.items():
            label = f"ready-{self.kind}-{name}-{uuid.uuid4().hex[:6]}"
            record.apply_async((label, name), queue=queues.split(",")[0])
            worker = self.workers[name]
            deadline = time.monotonic() + WORKER_START_TIMEOUT
            while not self._observations.get(label):
                if worker.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(f"worker {worker.hostname} did not start:\n{worker.output()}")
                time.sleep(0.1)

    def stop(self) -> None:
        for worker in self.workers.values():
            worker.stop()
        self.app.close()

    def purge(self, *queues: str, delete: bool = False) -> None:
        """Empty (or delete) RabbitMQ queues; a queue that does not exist is fine."""
        with Connection(self.url) as connection:
            channel = connection.channel()
            for queue in queues:
                try:
                    if delete:
                        channel.queue_delete(queue)
                    else:
                        channel.queue_purge(queue)
                except Exception:  # the broker closes the channel on a missing queue
                    channel = connection.channel()


WORKERS = {
    "default": (QUEUE, False),
    "emails": (EMAILS, False),
    "intercept": (INTERCEPT_QUEUE, True),
}


@pytest.fixture(scope="session")
def redis_side(
    broker_redis_url: str,
    observe_url: str,
    observations: Observations,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Broker]:
    logs = tmp_path_factory.mktemp("celery-workers")
    broker = Broker("redis", broker_redis_url, observe_url, observations, logs)
    broker.start(WORKERS)
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def amqp_side(
    amqp_url: str,
    observe_url: str,
    observations: Observations,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Broker]:
    logs = tmp_path_factory.mktemp("celery-workers")
    broker = Broker("amqp", amqp_url, observe_url, observations, logs)
    broker.purge(QUEUE, EMAILS, INTERCEPT_QUEUE)
    broker.start(WORKERS)
    yield broker
    broker.stop()
    broker.purge(QUEUE, EMAILS, INTERCEPT_QUEUE, delete=True)


@pytest.fixture(params=["redis", "amqp"])
def side(request: pytest.FixtureRequest) -> Broker:
    """Each worker test runs once against Redis and once against RabbitMQ."""
    return request.getfixturevalue(f"{request.param}_side")  # type: ignore[no-any-return]


@pytest.fixture
def until_drained(observations: Observations) -> Callable[[Broker, str], None]:
    """Send a marker through ``queue`` and wait for it: whatever was queued before ran."""

    def drain(broker: Broker, queue: str = QUEUE) -> None:
        label = "marker-" + uuid.uuid4().hex[:8]
        with warnings.catch_warnings():  # the global intercept may be installed
            warnings.simplefilter("ignore", DeprecationWarning)
            broker.task("record").apply_async((label,), queue=queue)
        observations.wait(label)

    return drain


@pytest.fixture
def make_current() -> Iterator[Callable[[Celery], None]]:
    """``make_current(app)``: Celery's current app until the test ends.

    String tasks, and ``airlock.plugins.resolve_task()``, name the current app's tasks.
    """
    from celery import current_app

    previous = current_app._get_current_object()
    yield lambda app: app.set_current()
    previous.set_current()


@pytest.fixture
def probe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Modules that leave a trace file when imported or run; forgotten afterwards.

    ``airlock_celery_probe`` is a plain module with a function ``run``;
    ``airlock_celery_probe_tasks`` registers ``airlock_probe.listed`` on the
    current app (for an app's ``imports``); the package
    ``airlock_celery_probe_pkg`` has a ``tasks`` module that registers
    ``airlock_probe.discovered`` (for ``app.autodiscover_tasks()``, as Django
    projects find their tasks).
    """
    trace = tmp_path / "trace"
    (tmp_path / "airlock_celery_probe.py").write_text(
        f"TRACE = {str(trace)!r}\n"
        "open(TRACE, 'a').write('imported\\n')\n"
        "def run(value):\n"
        "    open(TRACE, 'a').write(f'ran {value}\\n')\n"
    )
    (tmp_path / "airlock_celery_probe_tasks.py").write_text(
        "from celery import current_app\n"
        "@current_app.task(name='airlock_probe.listed', shared=False)\n"
        "def listed(value):\n"
        "    pass\n"
    )
    package = tmp_path / "airlock_celery_probe_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "tasks.py").write_text(
        "from celery import current_app\n"
        "@current_app.task(name='airlock_probe.discovered', shared=False)\n"
        "def discovered(value):\n"
        "    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield trace
    for name in list(sys.modules):
        if name.startswith("airlock_celery_probe"):
            del sys.modules[name]
