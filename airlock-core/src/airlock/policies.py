"""Policies decide *what* escapes: per-intent gates checked at enqueue and at flush."""

from __future__ import annotations

from airlock._context import PolicyGuard, current_scope, policy_stack
from airlock.errors import PolicyViolation, UsageError
from airlock.intents import task_reference

TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Iterable
    from types import TracebackType
    from typing import Any

    from airlock.intents import Intent
    from airlock.protocols import Policy


class AllowAll:
    """Lets every intent through (the default policy)."""

    def on_enqueue(self, intent: Intent) -> None:
        """Accept every intent."""

    def allows(self, intent: Intent) -> bool:
        """Allow every intent."""
        return True

    def __repr__(self) -> str:
        return "AllowAll()"


class DropAll:
    """Drops every intent at flush: dry runs, migrations, fixture loads."""

    def on_enqueue(self, intent: Intent) -> None:
        """Accept every intent into the buffer (so tests can inspect it)."""

    def allows(self, intent: Intent) -> bool:
        """Allow nothing."""
        return False

    def __repr__(self) -> str:
        return "DropAll()"


class AssertNoEffects:
    """Raises ``PolicyViolation`` at the first enqueue: code that must stay pure."""

    def on_enqueue(self, intent: Intent) -> None:
        """Refuse the intent."""
        raise PolicyViolation(
            f"Unexpected side effect {intent!r}: this code runs under AssertNoEffects,"
            f" which allows no effects at all."
        )

    def allows(self, intent: Intent) -> bool:
        """Never reached: ``on_enqueue`` refuses first."""
        return False

    def __repr__(self) -> str:
        return "AssertNoEffects()"


class BlockTasks:
    """Drops intents whose task name is in ``names`` (``{"enrich_from_api"}``).

    A name matches the task's short name (``send_email``) or, written with
    dots, its full reference (``proj.tasks.send_email``: a Celery task's name,
    a string task, or a function's ``module.qualname``).

    With ``raise_on_enqueue=True`` a blocked intent raises ``PolicyViolation``
    at the call site instead of being dropped quietly at flush.
    """

    def __init__(self, names: Iterable[str] | str, *, raise_on_enqueue: bool = False) -> None:
        if isinstance(names, str):
            names = (names,)
        blocked = frozenset(names)
        bad = [n for n in blocked if not isinstance(n, str)]
        if bad:
            raise UsageError(
                f"BlockTasks takes task names as strings, e.g. BlockTasks({{'send_email'}});"
                f" got {bad!r}."
            )
        self.names = blocked
        self.raise_on_enqueue = raise_on_enqueue
        self._reference: Callable[[object], str] | None = None
        if any("." in name for name in blocked):
            self._reference = task_reference

    def _blocks(self, intent: Intent) -> bool:
        if intent.name in self.names:
            return True
        return self._reference is not None and self._reference(intent.task) in self.names

    def on_enqueue(self, intent: Intent) -> None:
        """Refuse a blocked intent when ``raise_on_enqueue`` is set."""
        if self.raise_on_enqueue and self._blocks(intent):
            raise PolicyViolation(f"{intent!r} is blocked by {self!r}.")

    def allows(self, intent: Intent) -> bool:
        """Allow intents whose task is not blocked."""
        return not self._blocks(intent)

    def __repr__(self) -> str:
        flag = ", raise_on_enqueue=True" if self.raise_on_enqueue else ""
        return f"BlockTasks({sorted(self.names)!r}{flag})"


class LogOnFlush:
    """Allows everything and logs each intent as it is let through."""

    def __init__(self, logger: logging.Logger | None = None, level: int = 20) -> None:
        import logging

        self.logger = logger or logging.getLogger("airlock")
        self.level = level

    def on_enqueue(self, intent: Intent) -> None:
        """Accept every intent."""

    def allows(self, intent: Intent) -> bool:
        """Log the intent and allow it."""
        self.logger.log(self.level, "airlock: %r allowed at flush", intent)
        return True

    def __repr__(self) -> str:
        return f"LogOnFlush(logger={self.logger.name!r})"


def _frozen(value: Any) -> Any:
    """A hashable stand-in for lists, tuples, dicts and sets (JSON-like arguments)."""
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_frozen(v) for v in value))
    if isinstance(value, dict):
        return ("dict", frozenset((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, (set, frozenset)):
        return ("set", frozenset(value))
    hash(value)  # TypeError for anything else unhashable
    return value


class _Seen:
    """The calls one flush has already allowed."""

    __slots__ = ("hashable", "unhashable")

    def __init__(self) -> None:
        self.hashable: set[Any] = set()
        self.unhashable: list[tuple[Any, tuple[Any, ...], dict[str, Any]]] = []

    def first(self, intent: Intent) -> bool:
        try:
            key = (intent.task, _frozen(intent.args), _frozen(dict(intent.kwargs)))
            if key in self.hashable:
                return False
            self.hashable.add(key)
        except TypeError:  # arguments that cannot be frozen: compare by equality instead
            call = (intent.task, intent.args, dict(intent.kwargs))
            if call in self.unhashable:
                return False
            self.unhashable.append(call)
        return True


class Dedupe:
    """Drops an intent equal (task, args, kwargs) to one already allowed in the same flush.

    The answer to a loop that enqueues the same task 10,000 times: the first
    goes out, the copies are dropped. The memory lasts one flush, so one
    instance can serve many scopes and threads.
    """

    def __init__(self) -> None:
        self._outside_flush = _Seen()

    def on_enqueue(self, intent: Intent) -> None:
        """Accept every intent; duplicates are decided at flush."""

    def allows(self, intent: Intent) -> bool:
        """Allow the first of each distinct call in this flush, drop later copies."""
        guard = current_scope.get()
        seen = guard.memo(self, _Seen) if isinstance(guard, PolicyGuard) else self._outside_flush
        return seen.first(intent)

    def __repr__(self) -> str:
        return "Dedupe()"


#: Policies whose ``on_enqueue`` does nothing: a scope skips calling it.
SILENT_ON_ENQUEUE = (AllowAll, DropAll, LogOnFlush, Dedupe)


def check_policy(obj: object, what: str = "policy") -> Policy:
    """Return ``obj`` if it is a policy, else raise a ``UsageError`` saying why."""
    if not (callable(getattr(obj, "allows", None)) and callable(getattr(obj, "on_enqueue", None))):
        raise UsageError(
            f"{what} must be a policy: an object with on_enqueue(intent) and allows(intent),"
            f" such as airlock.DropAll(); got {obj!r} ({type(obj).__name__})."
        )
    return obj  # type: ignore[return-value]


class policy:  # noqa: N801  (used like a function: `with airlock.policy(p):`)
    """Layer ``p`` over every intent enqueued inside the block.

    The intents still go to the current scope's buffer; ``p`` travels with each
    of them (``intent.local_policies``) and is applied when that scope flushes.
    """

    __slots__ = ("_policy",)

    def __init__(self, p: Policy) -> None:
        self._policy = check_policy(p, "airlock.policy() argument")

    def __enter__(self) -> Policy:
        policy_stack.set((*policy_stack.get(), self._policy))
        current = current_scope.get()
        if current is not None and current._takes_plain_calls:
            # Its enqueues must now make Intent objects, which carry the layers.
            current._takes_plain_calls = False
        return self._policy

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # No token kept on self: one layer object may be entered again, or in
        # several threads at once. Each context drops its own innermost copy.
        stack = policy_stack.get()
        for position in range(len(stack) - 1, -1, -1):
            if stack[position] is self._policy:
                policy_stack.set(stack[:position] + stack[position + 1 :])
                return

    async def __aenter__(self) -> Policy:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)
