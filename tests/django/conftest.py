"""Django suite: a real project (tests/django/airtest) on PostgreSQL and SQLite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "airtest.settings")
# Celery publishes to Redis database 5 (this suite's own), from the first use on.
_REDIS = os.environ.get("AIRLOCK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("AIRTEST_BROKER_URL", _REDIS.rsplit("/", 1)[0] + "/5")


#: Stacks that run the process-level fault scenarios (marker ``faults``): they exercise
#: processes, brokers and PostgreSQL, not what changes between Django versions, so the
#: Django 5.2 stack leaves them to the oldest and newest stacks and keeps CI short.
FAULT_STACKS = {"oldest", "newest", "local"}


def pytest_configure(config: pytest.Config) -> None:
    import django

    config.addinivalue_line(
        "markers",
        "faults: process-level fault and hostile-row scenarios (not on the Django 5.2 stack)",
    )
    django.setup()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # a shard of a stack (tools/run_suites.py) runs as "<stack>_shard<i>of<n>"
    if os.environ.get("AIRLOCK_TEST_STACK", "local").partition("_shard")[0] in FAULT_STACKS:
        return
    left = [item for item in items if item.get_closest_marker("faults")]
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = [item for item in items if not item.get_closest_marker("faults")]


@pytest.fixture(scope="session", autouse=True)
def _postgres_is_up(postgres_url: str) -> None:
    """Fail loudly (shared message) when PostgreSQL does not answer."""


@pytest.fixture(autouse=True)
def fresh_effects() -> Iterator[list[tuple[str, int, bool]]]:
    from airtest import effects

    effects.SENT.clear()
    effects.CALLS.clear()
    effects.WITNESSED.clear()
    effects.BROKEN[0] = False
    yield effects.SENT
    effects.SENT.clear()
    effects.CALLS.clear()
    effects.WITNESSED.clear()
    import airlock

    assert airlock.get_current_scope() is None, "a test left a scope open"


#: Figures of the outbox fault and hostile-row tests, one row per scenario.
OUTBOX_FIGURES = pytest.StashKey[list[dict[str, Any]]]()


@pytest.fixture(scope="session")
def outbox_figures(pytestconfig: pytest.Config) -> list[dict[str, Any]]:
    """Where the fault tests report trials, effects committed, delivered, set aside, duplicated."""
    return pytestconfig.stash.setdefault(OUTBOX_FIGURES, [])


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """The figures table: one row per scenario, ``lost`` derived from the others.

    ``committed`` effects (rows) end ``delivered`` or ``set aside`` (rejected or
    dead, kept for a person); whatever is neither is lost.
    """
    figures = config.stash.get(OUTBOX_FIGURES, [])
    if not figures:
        return
    terminalreporter.section("outbox under faults and hostile rows")
    columns = ["trials", "committed", "delivered", "duplicates", "set_aside", "lost", "rolled_back"]
    rows = [
        {
            "set_aside": 0,
            "rolled_back": 0,
            **row,
            "lost": row["committed"] - row["delivered"] - row.get("set_aside", 0),
        }
        for row in figures
    ]
    width = max(len(row["scenario"]) for row in rows)
    terminalreporter.write_line(
        f"{'scenario':<{width}}  " + "  ".join(f"{c.replace('_', ' '):>11}" for c in columns)
    )
    for row in rows:
        terminalreporter.write_line(
            f"{row['scenario']:<{width}}  " + "  ".join(f"{row[c]:>11}" for c in columns)
        )
    totals = {c: sum(row[c] for row in rows) for c in columns}
    terminalreporter.write_line(
        f"{'total':<{width}}  " + "  ".join(f"{totals[c]:>11}" for c in columns)
    )


@pytest.fixture(scope="session")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
    django_db_setup: None,
    django_db_blocker: Any,
) -> Iterator[Any]:
    """A redis-server of our own and a Celery worker of the project on it (outbox_stack.py)."""
    from outbox_stack import QUEUE, Events, RedisServer, Stack, Worker, project_env

    broker = RedisServer(tmp_path_factory.mktemp("broker"))
    worker = None
    try:
        broker.start()
        events = Events(broker.url)
        worker = Worker(project_env(broker.url, broker.url, QUEUE))
        events.drain(worker)  # the worker is up
        yield Stack(broker, worker, events)
    finally:
        if worker is not None:
            worker.stop()
        broker.stop()
