"""The processes of the outbox fault tests: redis-servers of our own, Celery workers, relays.

Every effect of those tests is ``airtest.fault_tasks.record(label)``, which a
worker reports as "<task id> <label>", so each test sees exactly which
committed effect reached a worker, under which id, and how often. Processes
run the way production runs them: the application process
(airtest/fault_child.py), ``manage.py airlock_relay`` and ``celery worker``,
all on the pytest-django test database.

"Nothing reached the worker" is established without sleeping: after the fact
a sentinel task is sent to the same queue, and a solo worker runs a Redis
queue in order, so whatever was published before it has run once the sentinel
has.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import pytest
import redis
from celery import Celery
from django.db import connections
from django.utils import timezone

from airlock_django.models import OutboxMessage

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WAIT = 60.0
STACK = os.environ.get("AIRLOCK_TEST_STACK", "local")
QUEUE = f"django_outbox_faults_{STACK}"
EVENTS_KEY = f"django_outbox_events_{STACK}"
TASK = "airtest.fault_tasks.record"
SUMMARY = re.compile(
    r"relayed \d+ batch\(es\): (?P<claimed>\d+) claimed, (?P<delivered>\d+) delivered,"
    r" (?P<failed>\d+) failed \(will retry\), (?P<untried>\d+) not tried, (?P<dead>\d+) dead,"
    r" (?P<rejected>\d+) rejected"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RedisServer:
    """A redis-server of our own on a free loopback port.

    Append-only file with ``fsync`` on every write, as a broker that must not
    lose acknowledged messages runs: a SIGKILL and a restart on the same port
    keep every LPUSH that was answered.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.directory), "--appendonly", "yes",
                "--appendfsync", "always", "--save", "", "--loglevel", "warning",
                "--logfile", str(self.directory / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url, socket_timeout=2)
        deadline = time.monotonic() + WAIT
        while True:
            try:
                if client.ping():
                    break
            except (redis.ConnectionError, redis.BusyLoadingError):
                pass
            if self.process.poll() is not None:
                pytest.fail(
                    f"redis-server exited ({self.process.returncode}); see {self.directory}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"redis-server on port {self.port} not ready within {WAIT}s")
            time.sleep(0.02)
        client.close()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def reap(self) -> None:
        """Collect a server that was killed (by a child process): it must be gone."""
        assert self.process is not None
        self.process.wait(timeout=WAIT)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


def stop(process: subprocess.Popen[Any], timeout: float = 20) -> None:
    """SIGTERM, then SIGKILL if it does not exit within ``timeout`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def project_env(broker_url: str, events_url: str, queue: str, **outbox: str) -> dict[str, str]:
    """The environment of the project's processes: test database, broker, queue, timings."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "airtest.outbox_settings",
        "AIRTEST_DB_NAME": connections["default"].settings_dict["NAME"],
        "AIRTEST_BROKER_URL": broker_url,
        "AIRTEST_QUEUE": queue,
        "AIRTEST_EVENTS_URL": events_url,
        "AIRTEST_EVENTS_KEY": EVENTS_KEY,
        "PYTHONPATH": os.pathsep.join(
            [str(HERE), str(ROOT / "examples" / "shop"), str(ROOT / "docs" / "examples" / "django")]
        ),
        **outbox,
    }


def python(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python args`` to its end (killed after WAIT seconds)."""
    return subprocess.run(
        [sys.executable, *args], env=env, cwd=HERE, capture_output=True, text=True, timeout=WAIT
    )


#: The stdout and stderr files of each spawned process, by pid.
OUTPUTS: dict[int, tuple[IO[str], IO[str]]] = {}


def spawn(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """Start ``python args``, its output going to files.

    Not pipes: a long-running process (a relay logging every failed publish
    while the broker is down) would fill a pipe nobody reads yet, and block.
    """
    out = tempfile.TemporaryFile("w+")  # noqa: SIM115 (finish() reads and closes both)
    err = tempfile.TemporaryFile("w+")  # noqa: SIM115
    process = subprocess.Popen([sys.executable, *args], env=env, cwd=HERE, stdout=out, stderr=err)
    OUTPUTS[process.pid] = (out, err)
    return process


def finish(processes: list[subprocess.Popen[str]]) -> list[tuple[int, str, str]]:
    """Wait (bounded) for every process: (exit code, stdout, stderr) each; none outlives this."""
    try:
        for process in processes:
            process.wait(timeout=WAIT)
    finally:
        for process in processes:
            stop(process)
    ended = []
    for process in processes:
        out, err = OUTPUTS.pop(process.pid)
        with out, err:
            out.seek(0)
            err.seek(0)
            ended.append((process.returncode, out.read(), err.read()))
    return ended


def child(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return python(env, "-m", "airtest.fault_child", *args)


def relay(env: dict[str, str], *args: str) -> tuple[dict[str, int], str]:
    """``manage.py airlock_relay ARGS`` to its end: the counts of its summary, and its output."""
    done = python(env, "-m", "django", "airlock_relay", *args)
    return summary(done.returncode, done.stdout, done.stderr)


def summary(
    returncode: int, stdout: str, stderr: str, status: int = 0
) -> tuple[dict[str, int], str]:
    """The counts of a relay's summary line; it must have exited with ``status``."""
    output = f"exit {returncode}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    assert returncode == status, output
    found = SUMMARY.search(stdout.splitlines()[-1] if stdout.strip() else "")
    assert found, output
    return {key: int(value) for key, value in found.groupdict().items()}, output


class Worker:
    """``celery worker`` (solo pool) of the project on one broker and queue."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "shop_project", "--quiet", "worker",
                "--pool=solo", "--loglevel=WARNING", "--without-heartbeat", "--without-gossip",
                "--without-mingle", "--queues", env["AIRTEST_QUEUE"],
            ],
            env=env,
            cwd=HERE,
        )  # fmt: skip
        self.broker_url = env["AIRTEST_BROKER_URL"]
        self.queue = env["AIRTEST_QUEUE"]

    def stop(self) -> None:
        stop(self.process)


class Events:
    """What the workers reported: (task id, label) per run, in the order they ran."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = redis.Redis.from_url(url)
        self.client.delete(EVENTS_KEY)

    def drain(self, worker: Worker) -> list[tuple[str, str]]:
        """Every run reported until a sentinel sent now has run; then forget them."""
        sentinel = f"sentinel-{uuid.uuid4()}"
        app = Celery("outbox-faults-sentinel", broker=worker.broker_url, set_as_current=False)
        try:
            app.send_task(TASK, args=[sentinel], task_id=sentinel, queue=worker.queue)
        finally:
            app.close()
        deadline = time.monotonic() + WAIT
        while True:
            runs = [e.decode().split(" ", 1) for e in self.client.lrange(EVENTS_KEY, 0, -1)]
            if [sentinel, sentinel] in runs:
                self.client.delete(EVENTS_KEY)
                return [(task_id, label) for task_id, label in runs if task_id != sentinel]
            if worker.process.poll() is not None:
                pytest.fail(f"the worker exited ({worker.process.returncode}); runs {runs}")
            if time.monotonic() > deadline:
                pytest.fail(f"the sentinel did not run within {WAIT}s; runs {runs}")
            time.sleep(0.02)


class Stack:
    """A broker of our own, a worker on it, and where the worker reports."""

    def __init__(self, broker: RedisServer, worker: Worker, events: Events) -> None:
        self.broker = broker
        self.worker = worker
        self.events = events
        self.env = project_env(broker.url, events.url, QUEUE)


# -- what the database and the worker say ---------------------------------------


def outbox_rows() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.order_by("id"))


def label_of(row: OutboxMessage) -> str:
    label: str = json.loads(row.payload)["args"][0]
    return label


def check_runs(rows: list[OutboxMessage], runs: list[tuple[str, str]]) -> tuple[int, int]:
    """Each row ran on the worker under its intent id, with its own arguments.

    Returns (rows delivered, duplicate runs); a duplicate must carry the id of
    a row (at least once, recognisably) and nothing may run that no row holds.
    """
    expected = {str(row.intent_id): label_of(row) for row in rows}
    counts = Counter(task_id for task_id, _ in runs)
    assert set(counts) <= set(expected), f"runs of no committed row: {set(counts) - set(expected)}"
    assert all(expected[task_id] == label for task_id, label in runs)
    assert set(counts) == set(expected), f"never ran: {set(expected) - set(counts)}"
    return len(counts), sum(counts.values()) - len(counts)


def wait_until(condition: Any, what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout}s")
        time.sleep(0.05)


def sleep_until(moment: datetime) -> None:
    """Let the wall clock pass ``moment`` (a backoff set in the database)."""
    delay = (moment - timezone.now()).total_seconds()
    assert delay < WAIT
    if delay > 0:
        time.sleep(delay + 0.01)
