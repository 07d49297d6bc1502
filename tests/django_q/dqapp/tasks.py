"""Tasks the clusters run. Each effect is a line in the log both sides read (``DQ_TEST_LOG``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import airlock


def record(key: str, value: Any) -> None:
    """One effect: log ``value`` under ``key``."""
    with Path(os.environ["DQ_TEST_LOG"]).open("a") as log:
        log.write(f"{key} {value}\n")


def takes_options_as_arguments(key: str, group: str = "", timeout: int = 0) -> None:
    """A task whose parameters are named like django-q2 options."""
    record(key, f"group={group} timeout={timeout}")


def place_order(key: str, order_id: int, fail: bool = False) -> None:
    """Enqueue two effects through airlock, then fail if asked (worker-side scoping)."""
    airlock.enqueue(record, f"{key}:emails", order_id)
    airlock.enqueue("dqapp.tasks.record", f"{key}:warehouse", order_id)
    record(f"{key}:attempts", order_id)
    if fail:
        raise RuntimeError(f"order {order_id} failed")


def unsendable_effect(key: str) -> None:
    """Succeeds, but its effect has an option django-q2 does not know: the flush fails it."""
    record(f"{key}:ran", "yes")
    airlock.enqueue(record, f"{key}:effects", 1, _dispatch_options={"countdown": 5})


class StartedTasks:
    """A plugin the cluster registers: logs what ``airlock_task_started`` hears.

    A test sets the header ``x-test-key`` at enqueue; the cluster logs the task's
    name and the header ``x-test-value`` under ``<key>:started``.
    """

    @airlock.hookimpl
    def airlock_task_started(self, task_name: str, headers: Any) -> None:
        key = headers.get("x-test-key")
        if key:
            record(f"{key}:started", f"{task_name} {headers.get('x-test-value')}")
