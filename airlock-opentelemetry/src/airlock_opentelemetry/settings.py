"""How the worker side ties a task's span to the span that enqueued it."""

from __future__ import annotations

import os

from airlock import UsageError

#: The environment variable that sets ``task_context`` for processes that never call ``configure``.
TASK_CONTEXT_ENV = "AIRLOCK_OTEL_TASK_CONTEXT"
#: The choices: the enqueuing span is the task span's parent, or only a link of it.
TASK_CONTEXTS = ("parent", "link")

_chosen: str | None = None


def configure(*, task_context: str = "parent") -> None:
    """Choose how a task's span relates to the span that enqueued it.

    ``"parent"`` (the default): the task's span is a child of the enqueuing
    span, in the same trace. ``"link"``: the task's span starts a trace of its
    own (or continues whatever trace is current in the worker) and links to
    the enqueuing span; for long-delayed or fan-out work a backend may show
    better as separate traces. Call it in the worker process (where the
    application's Celery app, broker or job module is imported); the
    ``AIRLOCK_OTEL_TASK_CONTEXT`` environment variable sets the same.
    """
    global _chosen
    _chosen = _checked(task_context, "configure(task_context=...)")


def reset_configuration() -> None:
    """Forget ``configure()``: the environment variable, else ``"parent"``, applies again."""
    global _chosen
    _chosen = None


def task_context() -> str:
    """``"parent"`` or ``"link"``: from ``configure()``, else the environment, else ``"parent"``."""
    if _chosen is not None:
        return _chosen
    value = os.environ.get(TASK_CONTEXT_ENV)
    if not value:
        return "parent"
    return _checked(value, TASK_CONTEXT_ENV)


def _checked(value: object, source: str) -> str:
    if value not in TASK_CONTEXTS:
        raise UsageError(
            f"{source} must be 'parent' (the task's span is a child of the enqueuing span)"
            f" or 'link' (the task's span links to it), got {value!r}."
        )
    return str(value)
