"""Worker-side scoping: each task a Huey consumer runs is an airlock scope.

Call ``scope_tasks(huey)`` where the Huey instance is defined, so that the
consumer, which imports that module, runs every task in a scope: what a task
enqueues through airlock escapes when it returns, and is discarded when it
raises (so a retried task leaves nothing behind from its failed attempts).

How: a Huey *pre-execute hook* (``Huey.pre_execute``, called with the task in
the worker just before it runs) wraps that one run's ``execute`` in
``airlock.scope()``. The flush therefore happens inside the task run, before
Huey records the outcome: a flush that fails fails the task, with the
``DispatchError``, and Huey's retries and error results apply to it. Huey's
post-execute hooks and signals could not do that: they run after the outcome
is recorded, and Huey only logs what they raise.

Around the scope the run is announced to plugins
(``airlock.plugins.running_task``), without headers: a Huey message has no
field for metadata other than the task's own arguments, so ``Intent.headers``
do not travel with it.
"""

from __future__ import annotations

from typing import Any

from huey import Huey
from huey.api import Task

import airlock
from airlock.plugins import running_task

#: The name of airlock's pre-execute hook on a Huey instance.
HOOK_NAME = "airlock_scope"


def scope_tasks(huey: Huey, **scope_options: Any) -> None:
    """Run every task ``huey``'s consumer executes in ``airlock.scope(**scope_options)``.

    Without options the scope uses the process-wide defaults
    (``airlock.configure()``, ``AIRLOCK_EXECUTOR``; with neither, Huey tasks go
    to the ``huey`` executor). Calling it again replaces the options.
    """
    if not isinstance(huey, Huey):
        raise airlock.UsageError(
            f"airlock_huey.scope_tasks() takes the Huey instance whose tasks it scopes,"
            f" got {huey!r} ({type(huey).__name__})."
        )

    def open_scope(task: Task) -> None:
        run = type(task).execute

        def execute() -> Any:
            name = f"{type(task).__module__}.{type(task).__name__}"
            with running_task(name), airlock.scope(**scope_options):
                return run(task)

        task.execute = execute  # this run only

    huey.unregister_pre_execute(HOOK_NAME)
    huey.pre_execute(name=HOOK_NAME)(open_scope)


def unscope_tasks(huey: Huey) -> bool:
    """Stop scoping ``huey``'s tasks; ``True`` if they were scoped."""
    result: bool = huey.unregister_pre_execute(HOOK_NAME)
    return result
