"""The Huey application the Redis consumer runs: ``huey_consumer redis_app.huey``.

A ``PriorityRedisHuey`` in Redis database 8 (``HUEY_REDIS_URL``), its tasks
scoped by airlock: what a task enqueues escapes only if it succeeds.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from typing import Any

from huey import PriorityRedisHuey
from huey_effects import write

import airlock
import airlock_huey
from airlock.plugins import register

huey = PriorityRedisHuey("airlock_tests", url=os.environ["HUEY_REDIS_URL"], results=True)
airlock_huey.scope_tasks(huey)

#: What ``airlock_task_started`` heard last in this context: (task name, headers).
started: ContextVar[tuple[str, dict[str, str]] | None] = ContextVar("started", default=None)


class StartedTasks:
    """A plugin the consumer registers: keeps what ``airlock_task_started`` hears."""

    @airlock.hookimpl
    def airlock_task_started(self, task_name: str, headers: Any) -> None:
        started.set((task_name, dict(headers)))


register(StartedTasks(), name="huey-started-tasks")


@huey.task()
def announced(key: str) -> None:
    """Log what ``airlock_task_started`` heard just before this run."""
    write(key, started.get())


@huey.task()
def record(key: str, value: Any) -> None:
    """One effect: log ``value`` under ``key``."""
    write(key, value)


@huey.task(context=True)
def record_task(key: str, *, task: Any) -> None:
    """Log what the consumer knows of this run: id, retries, priority, eta, expiry."""
    write(key, f"id={task.id} retries={task.retries} priority={task.priority}")
    write(f"{key}:eta", task.eta)
    write(f"{key}:expires", task.expires)


@huey.task(name="renamed")
def named_record(key: str, value: Any) -> None:
    """A task whose Huey name (``redis_app.renamed``) is not its function's."""
    write(key, value)


@huey.task()
def takes_options_as_arguments(key: str, delay: int, id: str) -> None:
    """A task whose parameters are named like Huey options."""
    write(key, f"delay={delay} id={id}")


@huey.task()
def place_order(key: str, order_id: int, fail: bool = False) -> None:
    """Enqueue two effects through airlock, then fail if asked (worker-side scoping)."""
    airlock.enqueue(record, f"{key}:emails", order_id)
    airlock.enqueue("redis_app.record", f"{key}:warehouse", order_id)
    write(f"{key}:attempts", order_id)
    if fail:
        raise RuntimeError(f"order {order_id} failed")


@huey.task(retries=1, context=True)
def flaky_order(key: str, *, task: Any) -> None:
    """Fail on the first attempt, succeed on the retry; each attempt enqueues an effect."""
    attempt = "first" if task.retries else "retry"
    airlock.enqueue(record, f"{key}:effects", attempt)
    if attempt == "first":
        raise RuntimeError("first attempt fails")


@huey.task()
def unsendable_effect(key: str) -> None:
    """Succeeds, but its effect has an option Huey does not know: the flush fails the task."""
    write(f"{key}:ran", "yes")
    airlock.enqueue(record, f"{key}:effects", 1, _dispatch_options={"countdown": 5})
