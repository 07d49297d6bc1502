"""Turn an intent into the arguments of django-q2's ``async_task``.

The options are ``async_task``'s own: ``group``, ``timeout``, ``hook``,
``cluster``, ``broker``, ``save``, ``sync``, ``cached``, ``ack_failure``,
``task_name``, and ``q_options`` (a mapping of the same, merged in). They go
to ``async_task`` inside ``q_options``, so that the task's own keyword
arguments are never read as options. ``async_task`` still takes a keyword
argument named like an option that ``q_options`` lacks (and always takes
``task_name`` and ``q_options``), so such an argument is refused here unless
the same option is given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from airlock import Intent, UsageError
from airlock.plugins import why_not_importable

#: ``async_task``'s options that airlock passes on. ``chain``, ``iter_count`` and
#: ``iter_cached`` are left out: ``async_chain`` and ``async_iter`` set them.
OPTIONS = frozenset(
    {
        "ack_failure",
        "broker",
        "cached",
        "cluster",
        "group",
        "hook",
        "save",
        "sync",
        "task_name",
        "timeout",
    }
)
#: Keyword arguments ``async_task`` always takes for itself.
ALWAYS_TAKEN = frozenset({"task_name", "q_options"})
#: What async_task would read as an option if ``q_options`` lacked it.
TAKEN_UNLESS_GIVEN = frozenset(
    {"hook", "group", "save", "sync", "cached", "ack_failure", "iter_count", "iter_cached"}
    | {"chain", "broker", "cluster", "timeout"}
)
#: The option that carries a caller-chosen name, the key django-q2 finds results by.
MESSAGE_ID = "task_name"
#: ``Task.name`` is a 100-character column.
NAME_LENGTH = 100


class Prepared(NamedTuple):
    """One intent, checked: the function (or its dotted path) and ``q_options``."""

    intent: Intent
    func: Callable[..., Any] | str
    options: dict[str, Any]


def prepare(intent: Intent) -> Prepared:
    """Check ``intent`` for django-q2; ``UsageError`` says what is wrong."""
    func = _func(intent)
    options = dict(intent.dispatch_options or {})
    nested = options.pop("q_options", None)
    nested = {} if nested is None else nested
    if not isinstance(nested, Mapping):
        raise UsageError(f"{intent!r}: 'q_options' must be a mapping of options, got {nested!r}.")
    twice = sorted(set(nested) & set(options))
    if twice:
        raise UsageError(
            f"{intent!r}: {', '.join(map(repr, twice))} given both in q_options and as an"
            f" option; give each once."
        )
    options.update(nested)
    options = {name: value for name, value in options.items() if value is not None}
    unknown = sorted(set(options) - OPTIONS)
    if unknown:
        raise UsageError(
            f"{intent!r}: unknown django-q2 option(s) {', '.join(map(repr, unknown))}. The"
            f" django_q executor accepts the options of async_task: q_options,"
            f" {', '.join(sorted(OPTIONS))}."
        )
    for name, value in options.items():
        _check(intent, name, value)
    clashing = sorted(
        name
        for name in intent.kwargs
        if name in ALWAYS_TAKEN or (name in TAKEN_UNLESS_GIVEN and name not in options)
    )
    if clashing:
        raise UsageError(
            f"{intent!r}: django-q2's async_task would take the keyword argument(s)"
            f" {', '.join(map(repr, clashing))} as its own option(s), not pass them to the"
            f" task. Rename the task's parameter, or pass the argument positionally."
        )
    return Prepared(intent, func, options)


def _func(intent: Intent) -> Callable[..., Any] | str:
    """The task, if a django-q2 worker can import it again by name."""
    task: Callable[..., Any] | str = intent.task
    if not isinstance(task, str) and not callable(task):
        raise UsageError(
            f"{intent!r}: the django_q executor sends functions (or their dotted paths);"
            f" {task!r} is not callable."
        )
    problem = why_not_importable(task)
    if problem is not None:
        raise UsageError(
            f"{intent!r}: django-q2 workers import a task's function by its dotted path,"
            f" and {problem}."
        )
    return task


def _check(intent: Intent, name: str, value: Any) -> None:
    if name in ("group", "cluster"):
        ok, expected = isinstance(value, str) and bool(value), "a non-empty string"
    elif name == MESSAGE_ID:
        ok = isinstance(value, str) and 0 < len(value) <= NAME_LENGTH
        expected = f"a non-empty string of at most {NAME_LENGTH} characters"
    elif name == "timeout":
        ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
        expected = "a number of seconds (a positive integer)"
    elif name == "cached":
        ok = isinstance(value, (bool, int))
        expected = "True, False or a number of seconds"
    elif name == "hook":
        ok = callable(value) or (isinstance(value, str) and "." in value)
        expected = "a function or its dotted path"
    elif name == "broker":
        from django_q.brokers import Broker

        ok, expected = isinstance(value, Broker), "a django_q.brokers.Broker"
    else:  # save, sync, ack_failure
        ok, expected = isinstance(value, bool), "True or False"
    if not ok:
        raise UsageError(
            f"{intent!r}: the django-q2 option {name!r} must be {expected}, got {value!r}"
            f" ({type(value).__name__})."
        )
