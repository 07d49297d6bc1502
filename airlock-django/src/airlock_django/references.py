"""Names for tasks and executors, and the only objects an outbox row may name.

A row stores its task and executor as strings. Turning them back into objects
must never run code a row chose, so a name is only ever looked up in what the
application itself registered: Celery's task registry, Dramatiq's actors,
airlock's registered executors, the configured executor, and the task names
listed in ``AIRLOCK["OUTBOX"]["TASKS"]``. Nothing is imported by path here.
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Callable, Collection
from typing import Any

import airlock
from airlock import UsageError
from airlock.plugins import executor_name, task_reference


def task_name_of(task: object) -> str:
    """The name a row stores for ``task``; ``UsageError`` if it has none the relay can use."""
    name = task_reference(task)
    if "<" in name or ("." not in name and not _is_framework_task(task)):
        raise UsageError(
            f"the outbox stores a task by name, and {task!r} has no importable name"
            f" ({name!r}); enqueue a module-level function, a Celery task or a Dramatiq actor."
        )
    return name


def find_task(name: str, allowed: Collection[str]) -> object | None:
    """The task registered as ``name``, the name itself if allowlisted, else ``None``.

    Celery tasks and Dramatiq actors are looked up only when the application
    has imported Celery or Dramatiq; the Celery app first imports its task
    modules (autodiscovery, ``imports``) as a worker does at start. A name in
    ``allowed`` is returned as a string, for the executor (RQ, sync) to
    resolve the way it resolves any string task.
    """
    if "celery" in sys.modules:
        from celery import current_app

        app = current_app._get_current_object()  # the app itself, not the proxy
        if app not in _IMPORTED:  # what a worker imports at start: autodiscovered tasks
            app.loader.import_default_modules()
            _IMPORTED.add(app)
        task: object = app.tasks.get(name)
        if task is not None:
            return task
    if "dramatiq" in sys.modules:
        import dramatiq
        from dramatiq.errors import ActorNotFound

        try:
            actor: object = dramatiq.get_broker().get_actor(name)
            return actor
        except ActorNotFound:
            pass
    if name in allowed:
        return name
    return None


#: Celery apps whose task modules were imported (``import_default_modules``), once each.
_IMPORTED: weakref.WeakSet[Any] = weakref.WeakSet()


def _is_framework_task(task: object) -> bool:
    return isinstance(getattr(task, "actor_name", None), str) or callable(
        getattr(task, "apply_async", None)
    )


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
