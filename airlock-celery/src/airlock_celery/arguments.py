"""What a Celery task's arguments are checked against: Celery's own check.

``task.apply_async()`` calls the task's ``__header__`` with the call's
arguments before it builds the message: a function Celery compiled from the
task's own, with the same parameters and an empty body (for a bound task,
``self`` is already filled in). A task declared with ``typing=False`` (or any
task of an app created with ``strict_typing=False``) is not checked, and
neither is a class-based task, which has no ``__header__``. airlock checks an
``enqueue()`` call the same way (the plugin's ``airlock_task_signature``), and
the executor's batched publish repeats the check at flush, as
``apply_async()`` would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def argument_check(task: Any) -> Callable[..., Any] | None:
    """The callable Celery checks ``task``'s arguments with, or ``None`` where it checks none."""
    if not task.typing:
        return None
    check: Callable[..., Any] | None = getattr(task, "__header__", None)
    return check


__all__ = ["argument_check"]
