"""The context variables that make scopes per-thread, per-task and per-greenlet.

Also the scope lifecycle states, plain ints because ``enqueue()`` compares
one on every call, and ``PolicyGuard``, which stands in for the current scope
while a policy runs so that a policy cannot enqueue.
"""

from __future__ import annotations

from contextvars import ContextVar

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from airlock.protocols import Policy

#: The innermost open scope, a ``PolicyGuard`` while a policy runs, or ``None``.
current_scope: ContextVar[Any] = ContextVar("airlock_current_scope", default=None)

#: Policies layered with ``airlock.policy()``, outermost first.
policy_stack: ContextVar[tuple[Policy, ...]] = ContextVar("airlock_policy_stack", default=())

# Bound once: CPython does not specialize attribute access on a ContextVar, so
# ``current_scope.get()`` would build a method object at every call.
get_scope = current_scope.get
set_scope = current_scope.set
reset_scope = current_scope.reset
get_layers = policy_stack.get

NEW = 0
OPEN = 1
EXITED = 2
FLUSHED = 3
DISCARDED = 4
GUARDED = 5

STATE_NAMES = {
    NEW: "new",
    OPEN: "open",
    EXITED: "exited",
    FLUSHED: "flushed",
    DISCARDED: "discarded",
    GUARDED: "guarded",
}


class PolicyGuard:
    """Stands in for the current scope while a policy callback runs.

    ``enqueue()`` sees a state other than ``OPEN`` and refuses, so a policy
    cannot create intents, whichever scope is current around it. A flush
    judges all its intents under one guard, so ``memo`` is where a policy
    keeps state that must last exactly one flush (``Dedupe``).
    """

    __slots__ = ("_memo", "scope")
    _state = GUARDED
    _takes_plain_calls = False  # enqueue() takes its careful path, which refuses

    def __init__(self, scope: Any) -> None:
        self.scope = scope
        self._memo: dict[int, Any] | None = None

    def memo(self, owner: object, factory: Callable[[], Any]) -> Any:
        """State of ``owner`` for this pass, made by ``factory`` on first use."""
        if self._memo is None:
            self._memo = {}
        key = id(owner)
        if key not in self._memo:
            self._memo[key] = factory()
        return self._memo[key]
