"""docs/quickstart.md, step by step: migrations, the project's tests, a worker, a signup."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

pytestmark = [pytest.mark.slow, pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "examples" / "quickstart"
PAGE = ROOT / "docs" / "quickstart.md"
REDIS_DB = 11
WAIT = 60.0
STACK = os.environ.get("AIRLOCK_TEST_STACK", "local")


#: What running the project leaves in its directory (.gitignore keeps it out of the repository).
UNTRACKED = {"__pycache__", ".pytest_cache"}
IGNORED = shutil.ignore_patterns(*UNTRACKED, "*.pyc", "*.sqlite3")


@pytest.fixture(scope="module")
def broker_url(redis_url: str) -> str:
    return redis_url.rsplit("/", 1)[0] + f"/{REDIS_DB}"


@pytest.fixture(scope="module")
def queue() -> str:
    """A queue of this run's own, so that stacks running side by side never share one."""
    return f"quickstart_{STACK}_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, queue: str) -> Path:
    """A copy of the project, as a reader would have it, with this run's queue appended."""
    copy = tmp_path_factory.mktemp("quickstart") / "quickstart"
    shutil.copytree(PROJECT, copy, ignore=IGNORED)
    with (copy / "proj" / "settings.py").open("a") as settings:
        settings.write(f"\nCELERY_TASK_DEFAULT_QUEUE = {queue!r}\n")
    return copy


@pytest.fixture(scope="module")
def env(broker_url: str) -> dict[str, str]:
    """The reader's environment: nothing of the test run's airlock or Django settings.

    Celery lets CELERY_BROKER_URL win over the project's setting: it points the project
    at this suite's Redis database.
    """
    env = {**os.environ, "CELERY_BROKER_URL": broker_url}
    for name in ("DJANGO_SETTINGS_MODULE", "AIRLOCK_EXECUTOR", "PYTHONPATH", "PYTEST_ADDOPTS"):
        env.pop(name, None)
    return env


def run(command: list[str], project: Path, env: dict[str, str], **kwargs: object) -> str:
    done = subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, timeout=120, **kwargs
    )
    assert done.returncode == 0, (
        f"{command} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    )
    return done.stdout


def manage(project: Path, env: dict[str, str], *args: str, **kwargs: object) -> str:
    return run([sys.executable, "manage.py", *args], project, env, **kwargs)


@pytest.fixture(scope="module")
def migrated(project: Path, env: dict[str, str]) -> Path:
    """The page's commands: `makemigrations` finds the shipped migration complete, `migrate`
    applies it, `check` (which checks settings.AIRLOCK too) finds nothing to report, and
    `airlock check` prints the line the page shows."""
    assert "No changes detected" in manage(project, env, "makemigrations", "signups")
    manage(project, env, "migrate")
    assert "System check identified no issues" in manage(project, env, "check")
    checked = run(
        [sys.executable, "-m", "airlock", "check", "--settings", "proj.settings"], project, env
    )
    assert checked.strip() in PAGE.read_text()  # the line the page shows
    return project


class Worker:
    """`celery -A proj worker`, its output in a file, stopped at teardown."""

    def __init__(self, project: Path, env: dict[str, str]) -> None:
        self.log = project / "worker.log"
        self._out = self.log.open("wb")
        # The page's command; one process (solo pool) and no cluster chatter, on a 2-core CI.
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "proj", "worker", "--loglevel=INFO",
                "--pool=solo", "--without-gossip", "--without-mingle", "--without-heartbeat",
            ],
            cwd=project, env=env, stdout=self._out, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._out.close()


@pytest.fixture(scope="module")
def worker(migrated: Path, env: dict[str, str], broker_url: str, queue: str) -> Iterator[Worker]:
    worker = Worker(migrated, env)
    try:
        yield worker
    finally:
        worker.stop()
        redis.Redis.from_url(broker_url).delete(queue)


def welcomed(project: Path, email: str) -> bool:
    with sqlite3.connect(project / "db.sqlite3", timeout=20) as db:
        row = db.execute(
            "select welcomed_at from signups_signup where email = ?", (email,)
        ).fetchone()
    return row is not None and row[0] is not None


#: What `django-admin startproject`, `startapp` and `makemigrations` write, as the page says.
GENERATED = {"manage.py", "signups/__init__.py", "signups/migrations/__init__.py",
             "signups/migrations/0001_initial.py"}  # fmt: skip


def test_the_page_shows_every_other_file_of_the_project() -> None:
    page = PAGE.read_text()
    files = [
        path.relative_to(PROJECT).as_posix()
        for path in sorted(PROJECT.rglob("*"))
        if path.is_file()
        and not UNTRACKED.intersection(path.parts)
        and path.suffix not in {".pyc", ".sqlite3"}
    ]
    assert set(files) >= GENERATED
    shown = [name for name in files if f'--8<-- "examples/quickstart/{name}' in page]
    assert sorted(set(files) - set(shown)) == sorted(GENERATED)


def test_the_projects_own_tests_pass(project: Path, env: dict[str, str]) -> None:
    out = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], project, env)
    assert "3 passed" in out, out


def test_a_signup_is_welcomed_by_the_worker(
    worker: Worker, migrated: Path, env: dict[str, str]
) -> None:
    with (migrated / "try_it.py").open() as script:
        answered = manage(migrated, env, "shell", stdin=script)
    assert "signup answered 201" in answered
    assert "Welcome email" not in answered  # the request only enqueued it
    deadline = time.monotonic() + WAIT
    while "succeeded in" not in worker.output():  # the worker logs it once the task returned
        if worker.process.poll() is not None:
            pytest.fail(f"the worker exited ({worker.process.returncode}):\n{worker.output()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no task done within {WAIT}s; the worker said:\n{worker.output()}")
        time.sleep(0.1)
    output = worker.output()
    assert "Welcome email to ada@example.com" in output
    assert output.count("Task signups.tasks.send_welcome_email[") == 2  # received, succeeded
    assert welcomed(migrated, "ada@example.com")
