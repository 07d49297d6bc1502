"""The ``celery`` plugin of the ``airlock`` entry-point group.

Importing it does not import Celery, and no hook imports Celery into a process
that has not imported it itself: a process that never uses Celery (or has no
broker configured) loads this plugin for free. The executor loads Celery on
first use.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any, Literal

from airlock import hookimpl
from airlock_celery.executor import celery_executor

#: The classes of what the ``celery`` executor sends, by the import path airlock
#: reads from a task's type's MRO (``module.qualname``; nothing is imported to tell).
TASK_KINDS: Mapping[str, str] = {
    # A task object, as app.tasks holds it and as a finalized app's @app.task returns it.
    "celery.app.task.Task": "celery",
    # A signature or canvas: task.s(), chain(), group(), chord().
    "celery.canvas.Signature": "celery",
    # What @app.task returns while the app is not finalized yet, as at module level.
    "celery.local.PromiseProxy": "celery",
    # What @shared_task returns. Celery's Proxy class reports its module's name as
    # its __qualname__ (celery.local: Celery issue #1087), so that is its path.
    "celery.local.celery.local": "celery",
}


@hookimpl
def airlock_register_executors() -> Mapping[str, Callable[..., Any]]:
    """Register the ``celery`` executor."""
    return {"celery": celery_executor}


@hookimpl
def airlock_register_task_kinds() -> Mapping[str, str]:
    """Claim Celery tasks, the proxies ``@app.task`` and ``@shared_task`` return, and signatures.

    With no executor configured, airlock's task router sends them to the
    ``celery`` executor; a proxy that turns out not to be a task runs
    in-process there, as any plain callable does.
    """
    return TASK_KINDS


@hookimpl
def airlock_resolve_task(name: str) -> object | None:
    """The task registered as ``name`` on Celery's current app; ``None`` without Celery.

    Celery is in use when the process has imported it (an application that
    defines Celery tasks has); otherwise the answer is ``None`` and Celery stays
    unimported. The app's own task modules are imported once first, as a worker
    does at start (``airlock_celery.lookup``); the name itself is never imported.
    """
    if "celery" not in sys.modules:
        return None
    from airlock_celery.lookup import current_app, registered_task

    task: object | None = registered_task(current_app(), name)
    return task


@hookimpl
def airlock_task_signature(task: object) -> Callable[..., Any] | Literal[False] | None:
    """Celery's own argument check for a Celery task (``False`` if it checks none); else ``None``.

    A task is checked against its ``__header__``, as ``.delay()`` checks it, so
    a mistake fails at ``enqueue()`` with Celery's own message; ``typing=False``
    opts a task out (see ``airlock_celery.arguments``). A signature's arguments
    join the ones it already holds when it is sent, so they are not checked at
    ``enqueue()``. Anything else is not Celery's: ``None``.
    """
    tasks = sys.modules.get("celery.app.task")  # no Celery task exists before it is imported
    if tasks is None:
        return None
    if isinstance(task, tasks.Task):
        from airlock_celery.arguments import argument_check

        check = argument_check(task)
        return False if check is None else check
    canvas = sys.modules.get("celery.canvas")
    if canvas is not None and isinstance(task, canvas.Signature):
        return False
    return None
