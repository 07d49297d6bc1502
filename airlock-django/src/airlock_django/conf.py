"""``settings.AIRLOCK``: read it, validate it, and turn it into airlock's configuration.

Validation never raises: every problem becomes a ``Problem`` with a check id
and a hint, which ``manage.py check`` (and ``airlock check``) report. While
the setting is invalid, airlock is configured so that nothing escapes through
a channel nobody chose: see ``MisconfiguredExecutor``.
"""

from __future__ import annotations

import difflib
import inspect
import os
from collections.abc import Mapping
from typing import Any, Literal

import django
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

import airlock
from airlock import AirlockError, Intent, Scope
from airlock.plugins import (
    EXECUTOR_ENV,
    policy_factory,
    resolve_executor,
    resolve_scope_class,
)
from airlock_django.scopes import DjangoScope

SETTING = "AIRLOCK"
KEYS = ("EXECUTOR", "POLICY", "SCOPE", "SCOPE_KWARGS", "OUTBOX")
CELERY_EXAMPLE = "airlock.integrations.executors.celery.celery_executor"


class Problem:
    """One thing wrong with the settings, as a Django check reports it."""

    __slots__ = ("check_id", "hint", "message", "serious")

    def __init__(self, check_id: str, message: str, hint: str, *, serious: bool = True) -> None:
        self.check_id = check_id
        self.message = message
        self.hint = hint
        self.serious = serious

    def __repr__(self) -> str:
        return f"<Problem {self.check_id}: {self.message}>"


def read_settings() -> tuple[dict[str, Any], list[Problem]]:
    """``settings.AIRLOCK`` as ``airlock.configure()`` arguments, and what is wrong with it.

    Keys that are invalid are left out of the arguments; the caller decides
    what to do when any ``serious`` problem is reported.
    """
    raw = getattr(settings, SETTING, None)
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        return {}, [
            Problem(
                "airlock.E001",
                f"settings.AIRLOCK must be a dict, got {type(raw).__name__}: {raw!r}.",
                f'Use a dict such as AIRLOCK = {{"EXECUTOR": "{CELERY_EXAMPLE}"}}.',
            )
        ]
    problems: list[Problem] = []
    for key in raw:
        if key not in KEYS:
            close = difflib.get_close_matches(str(key), KEYS, n=1)
            guess = f"Did you mean {close[0]!r}? " if close else ""
            problems.append(
                Problem(
                    "airlock.E002",
                    f"settings.AIRLOCK has an unknown key {key!r}.",
                    f"{guess}The keys are {', '.join(KEYS)}.",
                )
            )
    arguments: dict[str, Any] = {}
    if raw.get("EXECUTOR") is not None:
        problem = _check_executor(raw["EXECUTOR"], "settings.AIRLOCK['EXECUTOR']")
        if problem is None:
            arguments["executor"] = raw["EXECUTOR"]
        else:
            problems.append(problem)
    elif os.environ.get(EXECUTOR_ENV):
        problem = _check_executor(os.environ[EXECUTOR_ENV], f"{EXECUTOR_ENV} environment variable")
        if problem is not None:
            problems.append(problem)
    if raw.get("POLICY") is not None:
        problem = _check_policy(raw["POLICY"])
        if problem is None:
            arguments["policy"] = raw["POLICY"]
        else:
            problems.append(problem)
    scope_cls: type[Scope] | None = DjangoScope
    if raw.get("SCOPE") is not None:
        scope_cls, found = _check_scope(raw["SCOPE"])
        problems += found
    if scope_cls is not None:
        arguments["scope_cls"] = scope_cls
    kwargs = raw.get("SCOPE_KWARGS")
    if kwargs is not None:
        problem = _check_scope_kwargs(kwargs, scope_cls)
        if problem is None:
            arguments["scope_kwargs"] = dict(kwargs)
        else:
            problems.append(problem)
    problems += read_outbox_settings(raw.get("OUTBOX"))[1]
    return arguments, problems


class OutboxSettings:
    """``settings.AIRLOCK["OUTBOX"]``, with defaults for what it leaves out.

    ``TASKS``: task names (or dotted paths) the relay may dispatch besides
    Celery's registered tasks and Dramatiq's actors. ``MAX_ATTEMPTS``:
    publish attempts before a row is dead. ``RELAY_AFTER``: seconds after the
    commit before the relay treats an undelivered row as lost (the fast path
    normally delivers it within milliseconds). ``RETRY_BACKOFF`` /
    ``RETRY_BACKOFF_MAX``: seconds before the first retry, doubled on each
    attempt up to the maximum. ``FAST_PATH``: ``True`` (the default) has the
    process that committed publish its rows right after the commit, then mark
    them delivered; ``False`` has it only write them, due at once, and leaves
    publishing to the relay (woken by the commit on PostgreSQL).
    """

    __slots__ = (
        "fast_path",
        "max_attempts",
        "relay_after",
        "retry_backoff",
        "retry_backoff_max",
        "tasks",
    )

    def __init__(
        self,
        *,
        tasks: frozenset[str] = frozenset(),
        max_attempts: int = 10,
        relay_after: float = 10.0,
        retry_backoff: float = 5.0,
        retry_backoff_max: float = 600.0,
        fast_path: bool = True,
    ) -> None:
        self.tasks = tasks
        self.fast_path = fast_path
        self.max_attempts = max_attempts
        self.relay_after = relay_after
        self.retry_backoff = retry_backoff
        self.retry_backoff_max = retry_backoff_max

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed publish."""
        doublings = min(max(attempts - 1, 0), 64)  # 2**64 times any backoff is past the maximum
        return float(min(self.retry_backoff * 2**doublings, self.retry_backoff_max))


#: The longest delay an outbox setting may give, in seconds (a year): a date that far off
#: is still one Python and every database can store.
LONGEST = 365 * 86400
#: Each number of ``AIRLOCK["OUTBOX"]``: its attribute, the lowest and the highest value.
OUTBOX_NUMBERS: dict[str, tuple[str, float, float]] = {
    "MAX_ATTEMPTS": ("max_attempts", 1, 2**31 - 1),
    "RELAY_AFTER": ("relay_after", 0, LONGEST),
    "RETRY_BACKOFF": ("retry_backoff", 0, LONGEST),
    "RETRY_BACKOFF_MAX": ("retry_backoff_max", 0, LONGEST),
}


def read_outbox_settings(raw: object) -> tuple[OutboxSettings, list[Problem]]:
    """``settings.AIRLOCK["OUTBOX"]`` as ``OutboxSettings``, and what is wrong with it."""
    if raw is None:
        return OutboxSettings(), []
    hint = (
        'A dict such as {"TASKS": ["myapp.tasks.send_email"], "MAX_ATTEMPTS": 10,'
        ' "RELAY_AFTER": 10, "RETRY_BACKOFF": 5, "RETRY_BACKOFF_MAX": 600,'
        ' "FAST_PATH": True}.'
    )
    if not isinstance(raw, Mapping):
        return OutboxSettings(), [
            Problem(
                "airlock.E007", f"settings.AIRLOCK['OUTBOX'] must be a dict, got {raw!r}.", hint
            )
        ]
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for key, value in raw.items():
        where = f"settings.AIRLOCK['OUTBOX'][{key!r}]"
        if key == "TASKS":
            if isinstance(value, str) or not all(isinstance(v, str) for v in value or ()):
                problems.append(
                    Problem(
                        "airlock.E007",
                        f"{where} must be a list of task names, got {value!r}.",
                        hint,
                    )
                )
            else:
                values["tasks"] = frozenset(value or ())
        elif key == "FAST_PATH":
            if isinstance(value, bool):
                values["fast_path"] = value
            else:
                problems.append(
                    Problem(
                        "airlock.E007",
                        f"{where} must be True or False, got {type(value).__name__} {value!r}.",
                        "True: the committing process publishes its rows right after the"
                        " commit (the relay only catches up); False: it only writes them and"
                        " `manage.py airlock_relay` publishes them. See docs/outbox.md.",
                    )
                )
        elif key in OUTBOX_NUMBERS:
            attribute, lowest, highest = OUTBOX_NUMBERS[key]
            kinds = (int,) if key == "MAX_ATTEMPTS" else (int, float)
            if isinstance(value, bool) or not isinstance(value, kinds) or value < lowest:
                kind = "a whole number" if key == "MAX_ATTEMPTS" else "a number"
                problems.append(
                    Problem(
                        "airlock.E007", f"{where} must be {kind} >= {lowest}, got {value!r}.", hint
                    )
                )
            elif not value <= highest:  # also refuses NaN
                problems.append(
                    Problem(
                        "airlock.E007", f"{where} must be at most {highest:,}, got {value!r}.", hint
                    )
                )
            else:
                values[attribute] = value
        else:
            keys = ["TASKS", "FAST_PATH", *OUTBOX_NUMBERS]
            close = difflib.get_close_matches(str(key), keys, n=1)
            guess = f"Did you mean {close[0]!r}? " if close else ""
            problems.append(
                Problem(
                    "airlock.E007",
                    f"settings.AIRLOCK['OUTBOX'] has an unknown key {key!r}.",
                    guess + hint,
                )
            )
    found = OutboxSettings(**values)
    if found.fast_path and found.relay_after < RACING_FAST_PATH:
        problems.append(
            Problem(
                "airlock.W003",
                f"settings.AIRLOCK['OUTBOX']['RELAY_AFTER'] is {found.relay_after!r}: a relay may"
                f" claim a row while the process that committed it is still publishing it on"
                f" the fast path, and then the effect goes out twice (at 0, many do under"
                f" load).",
                f"Keep RELAY_AFTER at {RACING_FAST_PATH:g} second or more, well above the time"
                f" one publish takes (the default is 10); the relay still takes over a row"
                f" that a crash left behind, RELAY_AFTER seconds after its commit.",
                serious=False,
            )
        )
    return found, problems


#: ``RELAY_AFTER`` below this many seconds races the fast path (``airlock.W003``).
RACING_FAST_PATH = 1.0


def outbox_settings() -> OutboxSettings:
    """The outbox settings in force; ``ImproperlyConfigured`` if they are invalid."""
    raw = getattr(settings, SETTING, None)
    found, problems = read_outbox_settings(raw.get("OUTBOX") if isinstance(raw, Mapping) else None)
    problems = [p for p in problems if p.serious]
    if problems:
        raise ImproperlyConfigured(
            "; ".join(p.message for p in problems) + " Run `python manage.py check` for hints."
        )
    return found


def _installed(kind: Literal["executor", "policy"]) -> str:
    """The registered names of ``kind``, for a hint (never raising: it is in an error path)."""
    try:
        return ", ".join(airlock.plugins.names(kind))
    except AirlockError as exc:  # a plugin's registry hook is broken
        return f"none can be listed ({exc})"


def _check_executor(value: object, source: str) -> Problem | None:
    try:
        resolve_executor(value, source=source)
    except AirlockError as exc:
        if value == "django_tasks" and django.VERSION < (6, 0):
            hint = (
                "The django_tasks executor needs Django's tasks framework (Django >= 6.0);"
                f" this project runs Django {django.get_version()}."
            )
        else:
            names = _installed("executor")
            hint = (
                f"Use an installed executor name ({names}) or a dotted path to an executor,"
                f" such as {CELERY_EXAMPLE!r}."
            )
        return Problem("airlock.E003", f"{source} is invalid: {exc}", hint)
    return None


def _check_policy(value: object) -> Problem | None:
    try:
        policy_factory(value, source="settings.AIRLOCK['POLICY']")()
    except AirlockError as exc:
        names = _installed("policy")
        return Problem(
            "airlock.E004",
            f"settings.AIRLOCK['POLICY'] is invalid: {exc}",
            f"Use an installed policy name ({names}), a dotted path to a policy class or"
            f" instance, or a policy object.",
        )
    return None


def _check_scope(value: object) -> tuple[type[Scope] | None, list[Problem]]:
    try:
        cls = resolve_scope_class(value, source="settings.AIRLOCK['SCOPE']")
    except AirlockError as exc:
        return None, [
            Problem(
                "airlock.E005",
                f"settings.AIRLOCK['SCOPE'] is invalid: {exc}",
                "Use 'django' (DjangoScope, the default), another registered scope name, or a"
                " dotted path to a subclass of airlock_django.DjangoScope.",
            )
        ]
    if issubclass(cls, DjangoScope):
        return cls, []
    return cls, [
        Problem(
            "airlock.W001",
            f"settings.AIRLOCK['SCOPE'] is {cls.__module__}.{cls.__qualname__}, which is not a"
            f" DjangoScope: effects will not wait for the database transaction to commit.",
            "Subclass airlock_django.DjangoScope instead, or silence airlock.W001 if flushing"
            " at the end of the block is what you want.",
            serious=False,
        )
    ]


def _check_scope_kwargs(kwargs: object, scope_cls: type[Scope] | None) -> Problem | None:
    hint = 'A dict of keyword arguments for the scope class, e.g. {"using": "default"}.'
    if not isinstance(kwargs, Mapping) or not all(isinstance(k, str) for k in kwargs):
        return Problem(
            "airlock.E006",
            f"settings.AIRLOCK['SCOPE_KWARGS'] must be a dict with string keys, got {kwargs!r}.",
            hint,
        )
    if scope_cls is None:
        return None
    try:
        inspect.signature(scope_cls).bind(**kwargs)
    except TypeError as exc:
        return Problem(
            "airlock.E006",
            f"settings.AIRLOCK['SCOPE_KWARGS'] does not suit {scope_cls.__qualname__}: {exc}.",
            hint,
        )
    if kwargs.get("on_dispatch_error", "stop") not in ("stop", "continue"):
        return Problem(
            "airlock.E006",
            "settings.AIRLOCK['SCOPE_KWARGS']['on_dispatch_error'] must be 'stop' or"
            f" 'continue', got {kwargs['on_dispatch_error']!r}.",
            hint,
        )
    using = kwargs.get("using")
    if issubclass(scope_cls, DjangoScope) and using is not None and using not in settings.DATABASES:
        return Problem(
            "airlock.E006",
            f"settings.AIRLOCK['SCOPE_KWARGS']['using'] is {using!r}, which is not a database"
            f" alias in settings.DATABASES ({', '.join(settings.DATABASES)}).",
            hint,
        )
    return None


class MisconfiguredExecutor:
    """Stands in while ``settings.AIRLOCK`` is invalid: every dispatch fails, loudly.

    Intents are still buffered and accounted for (``DispatchError`` lists them
    as failed), but none escapes through an executor or past a policy that
    nobody chose.
    """

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)

    def __call__(self, intent: Intent) -> None:
        """Refuse to dispatch, naming the check ids to look up."""
        raise self.refusal(f"so {intent!r} was not dispatched")

    def refusal(self, consequence: str) -> ImproperlyConfigured:
        """The error to raise: the check ids, the first problem, ``consequence``."""
        ids = ", ".join(dict.fromkeys(p.check_id for p in self.problems))
        return ImproperlyConfigured(
            f"settings.AIRLOCK is invalid ({ids}: {self.problems[0].message}), {consequence}."
            f" Run `python manage.py check` for the details."
        )

    def __repr__(self) -> str:
        return f"MisconfiguredExecutor({[p.check_id for p in self.problems]!r})"


def configure_from_settings() -> list[Problem]:
    """Configure airlock from ``settings.AIRLOCK``; return the problems found.

    The setting is the whole configuration: it replaces whatever
    ``airlock.configure()`` set before (call ``configure()`` afterwards to
    adjust it). Without ``AIRLOCK`` the scope class still becomes
    ``DjangoScope``. With a serious problem the executor is a
    ``MisconfiguredExecutor``, and the scope class the one configured if it is a
    ``DjangoScope`` (so that an outbox scope still refuses inside the
    transaction, which then rolls back), else ``DjangoScope``.
    """
    arguments, problems = read_settings()
    serious = [p for p in problems if p.serious]
    airlock.reset_configuration()
    if serious:
        scope_cls = arguments.get("scope_cls")
        if not (isinstance(scope_cls, type) and issubclass(scope_cls, DjangoScope)):
            scope_cls = DjangoScope
        airlock.configure(scope_cls=scope_cls, executor=MisconfiguredExecutor(serious))
    else:
        airlock.configure(**arguments)
    return problems
