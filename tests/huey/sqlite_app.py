"""The Huey application the SQLite consumer runs: ``huey_consumer sqlite_app.huey``.

``SqliteHuey``, Huey's embedded storage (the file ``HUEY_SQLITE_PATH``), its
tasks scoped by airlock.
"""

from __future__ import annotations

import os
from typing import Any

from huey import SqliteHuey
from huey_effects import write

import airlock
import airlock_huey

huey = SqliteHuey("airlock_tests", filename=os.environ["HUEY_SQLITE_PATH"])
airlock_huey.scope_tasks(huey)


@huey.task()
def record(key: str, value: Any) -> None:
    """One effect: log ``value`` under ``key``."""
    write(key, value)


@huey.task(context=True)
def record_task(key: str, *, task: Any) -> None:
    """Log the run's id and priority."""
    write(key, f"id={task.id} priority={task.priority}")


@huey.task()
def place_order(key: str, order_id: int, fail: bool = False) -> None:
    """Enqueue an effect through airlock, then fail if asked (worker-side scoping)."""
    airlock.enqueue(record, f"{key}:emails", order_id)
    write(f"{key}:attempts", order_id)
    if fail:
        raise RuntimeError(f"order {order_id} failed")
