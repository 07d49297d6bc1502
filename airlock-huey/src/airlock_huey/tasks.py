"""Huey tasks: telling one apart, finding one by name, and what its arguments are.

Huey keeps no public index of its tasks, but it names each one
``<module>.<name>``: the module of the decorated function and the function's
name (or the ``name=`` given to ``@huey.task()``). A task is found by that name,
or by the dotted path of the module attribute that holds it, in modules the
application has already imported: nothing is imported here, so a name can
only ever reach a task the application itself declared.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from typing import Any

from huey.api import TaskWrapper

from airlock import Intent, UsageError
from airlock.plugins import import_object


def huey_name(task: TaskWrapper) -> str:
    """Huey's own name for ``task``: ``<module>.<name>``, as its consumer looks it up."""
    task_class = task.task_class
    return f"{task_class.__module__}.{task_class.__name__}"


def find_task(name: str) -> TaskWrapper | None:
    """The Huey task called ``name`` in a module already imported, or ``None``.

    ``name`` is Huey's name for the task (``shop.tasks.send_email``, or
    ``shop.tasks.<name>`` for ``@huey.task(name=...)``) or the dotted path of
    the module attribute that holds it.
    """
    module_name, _, attribute = name.rpartition(".")
    module = sys.modules.get(module_name)
    if module is None:
        return None
    found = getattr(module, attribute, None)
    if isinstance(found, TaskWrapper):
        return found
    for value in vars(module).values():
        if isinstance(value, TaskWrapper) and huey_name(value) == name:
            return value
    return None


def resolve(intent: Intent) -> TaskWrapper:
    """The Huey task an intent names: itself, a task by name, or the dotted path of one."""
    task = intent.task
    if isinstance(task, TaskWrapper):
        return task
    if isinstance(task, str):
        found = find_task(task)
        if found is None and "." in task:
            try:
                found = import_object(task, what="Huey task")
            except UsageError:
                found = None
        if isinstance(found, TaskWrapper):
            return found
        raise UsageError(
            f"{intent!r}: {task!r} names no Huey task. Give the task itself, Huey's"
            f" name for it ('module.function') or its dotted import path."
        )
    raise UsageError(
        f"{intent!r}: the huey executor sends Huey tasks, and {task!r} is not one."
        f" Decorate the function with @huey.task(), or dispatch it with executor='sync'."
    )


def signature_of(task: object) -> Callable[..., Any] | None:
    """What ``enqueue()`` checks a Huey task's arguments against; ``None`` if not a task.

    The wrapped function; for a task declared with ``context=True``, without
    its ``task`` parameter, which Huey fills in when the task runs.
    """
    if not isinstance(task, TaskWrapper):
        return None
    func: Callable[..., Any] = task.func
    if not task.context:
        return func
    signature = inspect.signature(func)
    parameters = [p for p in signature.parameters.values() if p.name != "task"]

    def called_with(*args: Any, **kwargs: Any) -> None:
        """The task's arguments as its callers give them."""

    called_with.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return called_with
