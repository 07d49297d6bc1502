"""Names for tasks and executors, and the only objects an outbox row may name.

A row stores its task and executor as strings. Turning them back into objects
must never run code a row chose, so a name is only ever looked up in what the
application itself registered: the tasks an installed plugin finds by name
(``airlock.plugins.resolve_task``: Celery's task registry, Dramatiq's actors,
Huey's tasks, or a third-party plugin's), airlock's registered executors, the
configured executor, and the task names listed in ``AIRLOCK["OUTBOX"]["TASKS"]``.
Nothing is imported by path here, and no task framework is imported at all:
the plugins answer for their own.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import airlock
from airlock import UsageError
from airlock.plugins import executor_name, resolve_task, task_reference


def task_name_of(task: object, allowed: Collection[str], found: set[str]) -> str:
    """The name a row stores for ``task``; ``UsageError`` unless the relay can find it by it.

    A name without dots must be one an installed plugin resolves; a dotted
    one may also be listed in ``allowed``. ``found`` holds the names already
    found in this flush (the registries do not change during one): they are
    not looked up again, and a name found now is added.
    """
    name = task_reference(task)
    if name in found:
        return name
    if "<" in name or ("." not in name and resolve_task(name) is None):
        raise UsageError(
            f"the outbox stores a task by name, and {task!r} has no importable name"
            f" ({name!r}); enqueue a module-level function or a task an installed plugin"
            f" registers (a Celery task, a Dramatiq actor, a Huey task)."
        )
    if "." in name and find_task(name, allowed) is None:
        raise UsageError(
            f"the relay could not find the task {name!r}: it dispatches only the"
            f" tasks an installed plugin finds by name (Celery tasks, Dramatiq"
            f' actors, Huey tasks) and the names in AIRLOCK["OUTBOX"]["TASKS"].'
            f" Add {name!r} there."
        )
    found.add(name)
    return name


def find_task(name: str, allowed: Collection[str]) -> object | None:
    """The task a plugin finds as ``name``, the name itself if allowlisted, else ``None``.

    The installed plugins are asked first (``airlock_resolve_task``); a name in
    ``allowed`` is returned as a string, for the executor (RQ, sync) to
    resolve the way it resolves any string task.
    """
    task = resolve_task(name)
    if task is not None:
        return task
    if name in allowed:
        return name
    return None


def executor_name_of(executor: Callable[..., Any], given: object) -> str:
    """The name a row stores for ``executor``: as given, as configured, or its registered name."""
    if isinstance(given, str):
        if find_executor(given) is None:
            raise UsageError(
                f"the outbox stores the executor by name so that the relay can find it, and"
                f" the relay only uses registered executors"
                f" ({', '.join(airlock.plugins.names('executor'))}) and the configured one;"
                f" {given!r} is neither."
            )
        return given
    name = executor_name(executor)
    if name is not None:
        return name
    raise UsageError(
        f"the outbox stores the executor by name so that the relay can find it, and"
        f" {executor!r} is neither a registered executor nor the configured one; pass its"
        f" registered name ({', '.join(airlock.plugins.names('executor'))}) or configure it"
        f' with AIRLOCK = {{"EXECUTOR": "..."}}.'
    )


def find_executor(name: str) -> Callable[..., Any] | None:
    """The executor registered as ``name``, or the configured one if configured as ``name``."""
    if name in airlock.plugins.names("executor"):
        executor: Callable[..., Any] = airlock.plugins.lookup("executor", name)
        return executor
    configured: Callable[..., Any] = airlock.get_configuration()["executor"]
    return configured if executor_name(configured) == name else None


__all__ = ["executor_name_of", "find_executor", "find_task", "task_name_of"]
