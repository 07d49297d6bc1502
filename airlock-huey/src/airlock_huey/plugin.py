"""The ``huey`` plugin: the ``huey`` executor, the Huey task kind, lookups of Huey tasks.

Importing it does not import Huey: the executor is a lazy reference, and the
task hooks answer only once the application itself imported Huey.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any, Literal

import airlock

#: Huey's task object: what ``@huey.task()`` returns (``huey.api.TaskWrapper``).
TASK_KIND = "huey.api.TaskWrapper"


@airlock.hookimpl
def airlock_register_executors() -> Mapping[str, str]:
    """``executor="huey"`` selects :data:`airlock_huey.huey_executor`."""
    return {"huey": "airlock_huey.executor:huey_executor"}


@airlock.hookimpl
def airlock_register_task_kinds() -> Mapping[str, str]:
    """With no executor configured, a Huey task goes to the ``huey`` executor."""
    return {TASK_KIND: "huey"}


@airlock.hookimpl
def airlock_resolve_task(name: str) -> object | None:
    """The Huey task named ``name`` (``module.function``), if the application declared it."""
    if "huey.api" not in sys.modules:
        return None  # Huey is not in use: no task of ours can exist
    from airlock_huey.tasks import find_task

    return find_task(name)


@airlock.hookimpl
def airlock_task_reference(task: object) -> str | None:
    """A Huey task's name, as its consumer knows it: ``<module>.<name>``."""
    if "huey.api" not in sys.modules:
        return None
    from huey.api import TaskWrapper

    from airlock_huey.tasks import huey_name

    return huey_name(task) if isinstance(task, TaskWrapper) else None


@airlock.hookimpl
def airlock_task_signature(task: object) -> Callable[..., Any] | Literal[False] | None:
    """A Huey task's arguments are those of the function it wraps."""
    if "huey.api" not in sys.modules:
        return None
    from airlock_huey.tasks import signature_of

    return signature_of(task)
