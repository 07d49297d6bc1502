"""Turn an intent into a Huey task message: the task, checked options, a ``Task`` to enqueue.

The options are those of ``TaskWrapper.schedule()`` in the installed Huey
(``delay``, ``eta``, ``priority``, ``retries``, ``retry_delay``, ``expires``,
``id``; ``retry_backoff`` and ``timeout`` on Huey 3), read from its signature,
with Huey's names and meanings. The message is built as ``schedule()`` builds
it, from the task's ``task_class``, so a task argument that happens to be
called ``delay`` or ``id`` stays an argument (``task.s(...)`` would take it as
an option).
"""

from __future__ import annotations

import inspect
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from huey.api import Task, TaskWrapper
from huey.utils import normalize_time

from airlock import Intent, UsageError
from airlock_huey.tasks import resolve

#: Every option ``TaskWrapper.schedule()`` takes in the installed Huey.
OPTIONS = frozenset(inspect.signature(TaskWrapper.schedule).parameters) - {
    "self",
    "args",
    "kwargs",
}
#: The option that carries a caller-chosen task id.
MESSAGE_ID = "id"

_NUMBER = (int, float)


class Prepared(NamedTuple):
    """One intent, checked, with the Huey task and the message to enqueue."""

    intent: Intent
    wrapper: TaskWrapper
    message: Task


def prepare(intent: Intent) -> Prepared:
    """Resolve the intent's task and build its message; ``UsageError`` says what is wrong."""
    wrapper = resolve(intent)
    options = dict(intent.dispatch_options or {})
    unknown = sorted(set(options) - OPTIONS)
    if unknown:
        raise UsageError(
            f"{intent!r}: unknown Huey option(s) {', '.join(map(repr, unknown))}. The huey"
            f" executor accepts the options of TaskWrapper.schedule():"
            f" {', '.join(sorted(OPTIONS))}."
        )
    for name, value in options.items():
        _check(intent, wrapper, name, value)
    eta, delay = options.pop("eta", None), options.pop("delay", None)
    if eta is not None and delay is not None:
        raise UsageError(f"{intent!r}: give 'eta' (a datetime) or 'delay' (seconds), not both.")
    if eta is not None or delay:
        options["eta"] = normalize_time(eta=eta, delay=delay, utc=wrapper.huey.utc)
    message = wrapper.task_class(tuple(intent.args), dict(intent.kwargs), **options)
    return Prepared(intent, wrapper, message)


def _check(intent: Intent, wrapper: TaskWrapper, name: str, value: Any) -> None:
    if value is None:
        return  # Huey's own default, as with schedule(name=None)
    if name == "eta":
        ok = isinstance(value, datetime)
        expected = "a datetime"
    elif name in ("delay", "expires"):
        ok = isinstance(value, timedelta) or _is_number(value, minimum=0)
        ok = ok or (name == "expires" and isinstance(value, datetime))
        expected = "a number of seconds or a timedelta" + (
            " or a datetime" if name == "expires" else ""
        )
    elif name == MESSAGE_ID:
        ok = isinstance(value, str) and bool(value)
        expected = "a non-empty string (the task's id)"
    elif name in ("priority", "retries"):
        ok = isinstance(value, int) and not isinstance(value, bool)
        ok = ok and (name == "priority" or value >= 0)
        expected = "an integer" if name == "priority" else "a number of retries (0 or more)"
    else:  # retry_delay, retry_backoff, timeout: numbers of seconds or a factor
        ok = _is_number(value, minimum=0)
        expected = "a number (0 or more)"
    if not ok:
        raise UsageError(
            f"{intent!r}: the Huey option {name!r} must be {expected}, got {value!r}"
            f" ({type(value).__name__})."
        )
    if name == "priority" and value and not wrapper.huey.storage.priority:
        storage = type(wrapper.huey.storage).__name__
        raise UsageError(
            f"{intent!r}: {storage} keeps no task priorities, so Huey would refuse"
            f" 'priority'. Use a storage that does (PriorityRedisHuey, SqliteHuey), or"
            f" drop the option."
        )


def _is_number(value: object, *, minimum: float) -> bool:
    return isinstance(value, _NUMBER) and not isinstance(value, bool) and value >= minimum
