"""Worker-side scoping: each task a django-q2 cluster runs is an airlock scope.

django-q2 sends ``pre_execute`` in the worker process just before it calls a
task, and ``post_execute_in_worker`` (django-q2 1.10 and later) right after,
with the outcome in ``task["success"]``, before the worker hands the task to
the monitor that saves it. ``scope_tasks()`` opens a scope on the first and
ends it on the second (around it, the run is announced to plugins with
``airlock.plugins.running_task`` and the headers its intent carried): flush
when the task succeeded, discard when it failed (including a timeout). A
flush that fails turns the task into a failure:
``task["success"]`` becomes ``False`` and ``task["result"]`` the error, so
the cluster saves it as a failed task.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from django_q.signals import post_execute_in_worker, pre_execute

import airlock
from airlock import AirlockError, Scope
from airlock.plugins import running_task, task_reference
from airlock_django_q.executor import HEADERS

logger = logging.getLogger("airlock_django_q")

DISPATCH_UID = "airlock_django_q.scope_tasks"

#: The scope of each task running in this process, by task id, with its ``running_task``.
_open: dict[str, tuple[Scope, running_task]] = {}


def scope_tasks(**scope_options: Any) -> None:
    """Run every task this process's cluster executes in ``airlock.scope(**scope_options)``.

    Call it where the cluster's processes run it at start, such as an
    ``AppConfig.ready()``. Without options the scope uses the process-wide
    defaults (``settings.AIRLOCK``, ``airlock.configure()``). Calling it again
    replaces the options.
    """

    def open_scope(sender: Any, task: dict[str, Any], **kwargs: Any) -> None:
        running = running_task(_name(task), task.get(HEADERS))
        running.__enter__()
        _open[task["id"]] = (airlock.scope(**scope_options).enter(), running)

    unscope_tasks()
    pre_execute.connect(open_scope, weak=False, dispatch_uid=DISPATCH_UID)
    post_execute_in_worker.connect(close_scope, weak=False, dispatch_uid=DISPATCH_UID)


def unscope_tasks() -> bool:
    """Stop scoping tasks; ``True`` if they were scoped."""
    opened: bool = pre_execute.disconnect(dispatch_uid=DISPATCH_UID)
    closed: bool = post_execute_in_worker.disconnect(dispatch_uid=DISPATCH_UID)
    return opened or closed


def close_scope(sender: Any, task: dict[str, Any], **kwargs: Any) -> None:
    """Flush the task's scope if it succeeded, discard it if not; a failed flush fails it."""
    opened = _open.pop(task["id"], None)
    if opened is None:
        return
    scope, running = opened
    failure: BaseException | None = None
    try:
        scope.exit()
        if not task.get("success"):
            failure = TaskFailed(str(task.get("result")))
            scope.discard()
            return
        try:
            scope.flush()
        except AirlockError as error:
            logger.error("Task %s: its effects failed to dispatch: %s", task.get("name"), error)
            task["success"] = False
            task["result"] = f"{error} : {traceback.format_exc()}"
            failure = error
    finally:
        running.__exit__(None if failure is None else type(failure), failure, None)


class TaskFailed(Exception):
    """What ``airlock_task_finished`` hears when a django-q task failed: its result, as text."""


def _name(task: dict[str, Any]) -> str:
    func = task.get("func")
    return func if isinstance(func, str) else task_reference(func)
