"""The ``django_tasks`` executor: Django's own tasks framework (Django >= 6.0).

Importing this module on an older Django raises ``ImportError`` saying so.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import django

if django.VERSION < (6, 0):
    raise ImportError(
        "The django_tasks executor needs Django's tasks framework (django.tasks), which"
        f" arrived in Django 6.0; this environment has Django {django.get_version()}."
        " Upgrade Django, or pick another executor (sync, celery, dramatiq, rq).",
        name=__name__,
    )

from django.tasks import Task
from django.utils import timezone

from airlock import AirlockError, Intent
from airlock.plugins import import_object

#: The dispatch options this executor understands; each maps to ``Task.using()``.
OPTIONS = frozenset({"queue_name", "priority", "run_after", "backend"})


def django_tasks_executor(intent: Intent) -> None:
    """Enqueue ``intent.task`` (a ``django.tasks.Task``) on its backend.

    ``_dispatch_options`` map to ``task.using(...)``: ``queue_name``,
    ``priority``, ``run_after`` (a ``datetime``, or a ``timedelta`` counted
    from now) and ``backend``. A string task is imported by its dotted path.
    Anything that is not a ``Task`` (a plain function: decorate it with
    ``@django.tasks.task``) raises ``TypeError``, which the flush reports in
    ``DispatchError``.

    ``airlock.enqueue()`` takes callables and strings, and a ``Task`` object
    is neither: enqueue ``send_receipt.func`` (the decorated function, mapped
    back to its ``Task`` here) or the dotted path ``"shop.tasks.send_receipt"``.
    """
    task: Any = intent.task
    if isinstance(task, str):
        task = import_object(task, what="task")
    elif not isinstance(task, Task):
        task = _task_of(task)
    if not isinstance(task, Task):
        raise TypeError(
            f"The django_tasks executor enqueues django.tasks.Task objects; {intent.name!r}"
            f" is a {type(task).__name__}. Decorate the function with @django.tasks.task."
        )
    options = intent.dispatch_options
    if options:
        task = task.using(**_using_arguments(options))
    task.enqueue(*intent.args, **intent.kwargs)


def _task_of(func: Any) -> Any:
    """The ``Task`` whose ``.func`` is ``func`` (it sits at the function's own path)."""
    module = getattr(func, "__module__", None)
    qualname = getattr(func, "__qualname__", None)
    if module is None or qualname is None:
        return func
    try:
        found = import_object(f"{module}:{qualname}", what="task")
    except AirlockError:
        return func
    return found if isinstance(found, Task) and found.func is func else func


def _using_arguments(options: Any) -> dict[str, Any]:
    unknown = sorted(set(options) - OPTIONS)
    if unknown:
        raise TypeError(
            f"Unknown dispatch option(s) {', '.join(map(repr, unknown))} for the django_tasks"
            f" executor; it understands {', '.join(sorted(OPTIONS))} (see Task.using())."
        )
    arguments = dict(options)
    run_after = arguments.get("run_after")
    if isinstance(run_after, timedelta):
        arguments["run_after"] = timezone.now() + run_after
    elif run_after is not None and not isinstance(run_after, datetime):
        raise TypeError(f"run_after must be a datetime or a timedelta, got {run_after!r}.")
    return arguments


__all__ = ["OPTIONS", "django_tasks_executor"]
