"""SqliteHuey, Huey's embedded storage: the executor and worker-side scoping on it."""

from __future__ import annotations

from typing import Any

import pytest
import sqlite_app
from conftest import Consumer
from huey.exceptions import TaskException

import airlock

pytestmark = pytest.mark.slow


def test_tasks_and_options_on_sqlite(sqlite_consumer: Consumer, key: str) -> None:
    with airlock.scope():
        airlock.enqueue(sqlite_app.record, key, "plain")
        airlock.enqueue("sqlite_app.record", key, "by name", _dispatch_options={"delay": 1})
        airlock.enqueue(
            sqlite_app.record_task,
            f"{key}:task",
            _dispatch_options={"id": f"{key}-id", "priority": 3},
        )
    assert sorted(sqlite_consumer.wait_for(key, 2)) == ["by name", "plain"]
    assert sqlite_consumer.wait_for(f"{key}:task") == [f"id={key}-id priority=3"]


def test_worker_scoping_on_sqlite(sqlite_consumer: Consumer, key: str, logged: Any) -> None:
    sqlite_app.place_order(key, 1)
    failing = sqlite_app.place_order(key, 2, fail=True)
    with pytest.raises(TaskException, match="order 2 failed"):
        failing.get(blocking=True, timeout=30)
    sqlite_consumer.settle(sqlite_app.huey)
    assert sorted(logged(f"{key}:attempts")) == ["1", "2"]
    assert logged(f"{key}:emails") == ["1"]
