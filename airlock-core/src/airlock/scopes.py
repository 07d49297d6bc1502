"""Scopes decide *when* effects escape: a scope's lifecycle and its edge.

``enqueue()`` (in ``airlock.buffer``, with the buffer it fills) adds intents
to the current scope; the scope's end flushes (policies judge, ancestors
capture, the executor dispatches) or discards.
"""

from __future__ import annotations

from airlock import buffer, defaults
from airlock._context import (
    DISCARDED,
    EXITED,
    FLUSHED,
    GUARDED,
    NEW,
    OPEN,
    STATE_NAMES,
    PolicyGuard,
    get_layers,
    get_scope,
    reset_scope,
    set_scope,
)
from airlock.describing import clip
from airlock.dispatching import dispatch, sync_executor
from airlock.errors import PolicyEnqueueError, ScopeStateError, UsageError
from airlock.intents import Intent
from airlock.lifecycle import lifecycle
from airlock.resolution import named, resolve_executor, resolve_policy
from airlock.routing import router

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from contextvars import Token
    from types import TracebackType
    from typing import Any, Literal, ParamSpec, TypeVar, overload

    from airlock.protocols import Policy

    P = ParamSpec("P")
    R = TypeVar("R")
    S = TypeVar("S", bound="Scope")


#: The methods a scope class must keep from ``Scope`` for its scopes to run
#: the buffer in-process at their end (see ``Plan.inline``).
_STEPS = ("exit", "should_flush", "flush", "discard", "dispatch_all", "_dispatch_all")


class Scope:
    """A buffer of intents with a lifecycle: open, then flushed or discarded.

    Use it through ``airlock.scope()``. Subclasses change the edge; these
    are the extension points:

    - ``should_flush(error)``: flush or discard when the block ends.
    - ``before_descendant_flushes(exiting_scope, intents)``: which intents of
      a nested scope may escape now (the rest are captured here).
    - ``dispatch_all(intents)``: how the intents that survived policies and
      ancestors are handed to the executor (``DjangoScope`` waits for the
      transaction to commit; the outbox writes rows).
    - ``intent_enqueued(intent)``: called for each intent buffered directly
      in this scope (``DjangoScope`` ties it to the open transaction).
    - ``report_discarded(intents)``: tell the lifecycle hooks about intents a
      subclass dropped itself.

    ``on_dispatch_error`` is ``"stop"`` (default: the first executor failure
    ends the flush) or ``"continue"`` (try every intent, then report); either
    way a failure raises ``DispatchError`` with the full accounting.
    """

    __slots__ = (
        "__weakref__",
        "_end",
        "_entries",
        "_parent",
        "_plan",
        "_state",
        "_takes_plain_calls",
        "_token",
    )
    _token: Token[Any]
    _parent: Scope | None

    #: The class keeps ``Scope``'s own steps (``_STEPS``), so its scopes may run
    #: the buffer in-process at their end.
    _keeps_own_steps = True
    #: The class overrides ``intent_enqueued``: each intent needs an ``Intent`` object.
    _hears_enqueues = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "_dispatch_all" in cls.__dict__ and "dispatch_all" not in cls.__dict__:
            import warnings

            warnings.warn(
                f"{cls.__qualname__} overrides Scope._dispatch_all(), which is deprecated:"
                f" override dispatch_all() instead (same arguments).",
                DeprecationWarning,
                stacklevel=2,
            )
            cls.dispatch_all = _legacy_dispatch_all  # type: ignore[method-assign]
        cls._keeps_own_steps = all(getattr(cls, name) is getattr(Scope, name) for name in _STEPS)
        cls._hears_enqueues = cls.intent_enqueued is not Scope.intent_enqueued

    def __init__(
        self,
        *,
        policy: object = None,
        executor: object = None,
        on_dispatch_error: Literal["stop", "continue"] = "stop",
    ) -> None:
        configured = defaults.installed or defaults.current()
        plan = configured.plan
        if (
            plan is None
            or policy is not None
            or executor is not None
            or on_dispatch_error != "stop"
            or not self._keeps_own_steps
        ):
            plan = self._own_plan(configured, policy, executor, on_dispatch_error)
        self._plan = plan
        self._entries: list[Any] = []
        #: ``enqueue()`` may append calls without ``Intent`` objects: no policy
        #: screens them, nothing hears them, no ``airlock.policy()`` layer is on.
        self._takes_plain_calls = not plan.screens and not self._hears_enqueues
        self._state = NEW

    def _own_plan(
        self, configured: defaults.Defaults, policy: object, executor: object, on_error: str
    ) -> defaults.Plan:
        """The plan of a scope given its own policy, executor or error mode."""
        if on_error != "stop" and on_error != "continue":
            raise UsageError(f"on_dispatch_error must be 'stop' or 'continue', got {on_error!r}.")
        return defaults.Plan(
            configured.make_policy()
            if policy is None
            else resolve_policy(policy, source="scope policy"),
            configured.executor
            if executor is None
            else resolve_executor(executor, source="scope executor"),
            keep_going=on_error == "continue",
            plain_scope=self._keeps_own_steps,
        )

    # -- inspection -------------------------------------------------------

    @property
    def intents(self) -> list[Intent]:
        """Everything buffered here, own and captured, in order (a copy)."""
        return buffer.intents_of(self._entries, self)

    @property
    def own_intents(self) -> list[Intent]:
        """Intents enqueued directly in this scope."""
        return [i for i in buffer.intents_of(self._entries, self) if i.origin is self]

    @property
    def captured_intents(self) -> list[Intent]:
        """Intents captured from nested scopes when they exited."""
        return [i for i in buffer.intents_of(self._entries, self) if i.origin is not self]

    @property
    def is_active(self) -> bool:
        """True between entering and leaving the block."""
        return self._state == OPEN

    @property
    def is_flushed(self) -> bool:
        """True once the scope flushed (even if dispatch then failed)."""
        return self._state == FLUSHED

    @property
    def is_discarded(self) -> bool:
        """True once the scope discarded its buffer."""
        return self._state == DISCARDED

    @property
    def policy(self) -> Policy:
        """The scope's policy."""
        return self._plan.policy

    @property
    def executor(self) -> Callable[..., Any]:
        """The scope's executor."""
        return self._plan.executor

    @property
    def parent(self) -> Scope | None:
        """The scope that was current when this one was entered (``None`` before that)."""
        return None if self._state == NEW else self._parent

    def __repr__(self) -> str:
        state = STATE_NAMES.get(self._state, "?")
        return f"<{type(self).__name__} {state}, {buffer.count(self._entries)} intents>"

    # -- extension points -------------------------------------------------

    def should_flush(self, error: BaseException | None) -> bool:
        """Flush (``True``) or discard (``False``) when the block ends with ``error``."""
        return error is None

    def before_descendant_flushes(
        self, exiting_scope: Scope, intents: list[Intent]
    ) -> list[Intent]:
        """Return which of a nested scope's ``intents`` may escape now.

        Called on every open ancestor, innermost first, when a nested scope
        flushes. What this returns goes on towards dispatch; the rest is
        captured into this scope's buffer. The default captures everything:
        the outermost scope has authority.
        """
        return []

    def dispatch_all(self, intents: list[Intent]) -> None:
        """Hand the intents that survived policies and ancestors to the executor, in order.

        Called once per flush with at least one intent. The default sends them
        through the scope's executor at once (``dispatch_many`` when it has
        one) and raises ``DispatchError`` with the accounting if that fails.
        Override it to send them later or elsewhere; call
        ``super().dispatch_all(intents)`` to send them through the executor.
        """
        dispatch(intents, self._plan.executor, keep_going=self._plan.keep_going, scope=self)

    def _dispatch_all(self, intents: list[Intent]) -> None:
        """Deprecated alias of ``dispatch_all`` (overriding it still works, with a warning)."""
        Scope.dispatch_all(self, intents)

    def intent_enqueued(self, intent: Intent) -> None:
        """Called when ``intent`` was buffered directly in this scope; the default does nothing.

        It runs after the policies accepted the intent. Raising takes the
        intent back out and propagates from ``enqueue()``.
        """

    def report_discarded(self, intents: list[Intent]) -> None:
        """Tell the ``airlock_scope_discarded`` hook that ``intents`` of this scope were dropped.

        ``discard()`` calls it; a subclass that drops intents itself (because
        their transaction rolled back, say) calls it too, so nothing is lost
        silently.
        """
        if intents and lifecycle.discarded is not None:
            lifecycle.discarded(scope=self, intents=list(intents))

    # -- lifecycle --------------------------------------------------------

    def enter(self: S) -> S:
        """Make this the current scope (``with`` does this for you)."""
        if self._state:  # not NEW
            raise ScopeStateError(
                f"{self!r} was already entered; a scope is used once. Open a new one"
                f" with airlock.scope()."
            )
        parent = get_scope()
        if parent is not None and parent._state == GUARDED:
            raise PolicyEnqueueError("Cannot open a scope inside a policy callback.")
        self._parent = parent
        self._token = set_scope(self)
        self._state = OPEN
        if self._takes_plain_calls and get_layers():  # entered inside an airlock.policy() block
            self._takes_plain_calls = False
        return self

    def exit(self) -> None:
        """Stop being the current scope; then call ``flush()`` or ``discard()``."""
        if self._state != OPEN:
            raise ScopeStateError(f"Cannot exit {self!r}: it is not open.")
        current = get_scope()
        if current is not self and _is_descendant(current, self):
            raise ScopeStateError(
                f"Cannot exit {self!r} while the nested scope {current!r} is still open;"
                f" exit the nested scope first."
            )
        self._state = EXITED  # first: an enqueue racing this sees it (see airlock.buffer)
        self._end = buffer.seal(self._entries)
        try:
            reset_scope(self._token)
        except ValueError:  # exited in another context: repair a copy, keep the intents
            raise self._exited_elsewhere(current) from None

    def _exited_elsewhere(self, current: object) -> ScopeStateError:
        """The error for an exit in another context than the entry's (repaired first)."""
        if current is self:  # a copied context: repair it; a fresh one never saw us
            set_scope(self._parent)
        return ScopeStateError(
            f"{self!r} was exited in a different context than the one that entered it"
            f" (another thread, asyncio task or greenlet). Its {buffer.count(self._entries)}"
            f" buffered intents are kept: call .flush() or .discard() on it."
        )

    def flush(self) -> list[Intent]:
        """Apply policies, let ancestors capture, dispatch the rest; return what went out.

        Raises ``ScopeStateError`` unless the scope has exited and neither
        flushed nor discarded, and ``DispatchError`` if the executor fails.
        """
        if self._state != EXITED:
            raise ScopeStateError(self._refuse("flush"))
        self._state = FLUSHED
        sent = self._send()
        return buffer.intents_of(self._entries, self) if sent is None else sent

    def _send(self) -> list[Intent] | None:
        """Send the buffer; ``None`` means "all of it, run in-process"."""
        if not self._end:
            return []
        plan = self._plan
        if plan.inline and self._parent is None and not lifecycle.watching_dispatch:
            in_process = None if plan.executor is sync_executor else router
            buffer.run_in_process(self._entries, self._end, self, in_process)
            return None
        intents = buffer.intents_of(self._entries, self)
        if plan.filters or plan.layered:
            intents = self._judge(intents)
        if self._parent is not None and intents:
            intents = self._offer_to_ancestors(intents)
        if intents:
            self.dispatch_all(intents)
        return intents

    def discard(self) -> list[Intent]:
        """Drop the buffer without dispatching anything; return what was dropped."""
        if self._state != EXITED:
            raise ScopeStateError(self._refuse("discard"))
        self._state = DISCARDED
        intents = buffer.intents_of(self._entries, self)
        buffer.clear_sealed(self._entries)
        self.report_discarded(intents)
        return intents

    def _refuse(self, action: str) -> str:
        if self._state == OPEN:
            return f"Cannot {action} {self!r} while it is open; it ends with its block."
        if self._state == NEW:
            return f"Cannot {action} {self!r}: it was never entered."
        return f"Cannot {action} {self!r}: it was already {STATE_NAMES[self._state]}."

    # -- internals --------------------------------------------------------

    def _admit(self, intent: Intent) -> None:
        """Run ``on_enqueue`` of the layered and scope policies; they may refuse."""
        plan = self._plan
        guard = set_scope(PolicyGuard(self))
        try:
            for layered in reversed(intent.local_policies):
                layered.on_enqueue(intent)
            if plan.screens:
                plan.policy.on_enqueue(intent)
        finally:
            reset_scope(guard)
        if intent.local_policies and not plan.layered:
            self._plan = plan.with_layers()

    def _judge(self, intents: list[Intent]) -> list[Intent]:
        """Keep the intents every applicable policy allows, in order."""
        policy = self._plan.policy if self._plan.filters else None
        on_dropped = lifecycle.dropped
        kept = []
        guard = set_scope(PolicyGuard(self))
        try:
            for intent in intents:
                judge = None
                if intent.origin is self:
                    for layered in reversed(intent.local_policies):
                        if not layered.allows(intent):
                            judge = layered
                            break
                if judge is None and policy is not None and not policy.allows(intent):
                    judge = policy
                if judge is None:
                    kept.append(intent)
                elif on_dropped is not None:
                    on_dropped(intent=intent, policy=judge)
        finally:
            reset_scope(guard)
        return kept

    def _offer_to_ancestors(self, intents: list[Intent]) -> list[Intent]:
        ancestor = self._parent
        while ancestor is not None and intents:
            if ancestor._state == OPEN:
                allowed = ancestor.before_descendant_flushes(self, intents)
                if not isinstance(allowed, list):
                    raise UsageError(
                        f"{type(ancestor).__name__}.before_descendant_flushes() must return a"
                        f" list of intents, got {type(allowed).__name__}; the intents stay"
                        f" in {self!r}."
                    )
                if allowed is not intents:
                    keep = {id(i) for i in allowed}
                    ancestor._capture([i for i in intents if id(i) not in keep], self)
                    intents = [i for i in intents if id(i) in keep]
            ancestor = ancestor._parent
        return intents

    def _capture(self, intents: list[Intent], child: Scope) -> None:
        """Take a nested scope's intents into this buffer; this scope's policy screens them.

        A refusal (``PolicyViolation`` from ``on_enqueue``, as ``AssertNoEffects``
        raises) captures none of them and propagates from the nested scope's exit.
        """
        plan = self._plan
        if plan.screens and intents:
            guard = set_scope(PolicyGuard(self))
            try:
                for intent in intents:
                    plan.policy.on_enqueue(intent)
            finally:
                reset_scope(guard)
        if not intents:
            return
        first = buffer.add_intents(self._entries, intents)
        if self._state != OPEN and not buffer.kept(self._entries, first, len(intents)):
            raise ScopeStateError(
                f"{child!r} ended after its parent {self!r} (another thread or task ended the"
                f" parent first), so its {len(intents)} intents have nowhere to go; they were"
                f" not dispatched: {clip(repr(intents), 300)}."
            )

    # -- context manager --------------------------------------------------

    __enter__ = enter

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._keeps_own_steps and self._state == OPEN and get_scope() is self:
            # Scope's own exit() and flush() in one step, for the end of every block.
            self._state = EXITED  # first: an enqueue racing this sees it (see airlock.buffer)
            self._end = end = buffer.seal(self._entries)
            try:
                reset_scope(self._token)
            except ValueError:
                raise self._exited_elsewhere(self) from None
            if exc is None:
                self._state = FLUSHED
                plan = self._plan
                if not end:
                    return
                if plan.inline and self._parent is None and not lifecycle.watching_dispatch:
                    in_process = None if plan.executor is sync_executor else router
                    buffer.run_in_process(self._entries, end, self, in_process)
                    return
                self._send()
                return
        else:
            self.exit()
            if self.should_flush(exc):
                self.flush()
                return
        dropped = self.discard()
        if dropped and isinstance(exc, GeneratorExit):
            _warn_abandoned_generator(self, dropped)

    async def __aenter__(self: S) -> S:
        return self.enter()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)


def _legacy_dispatch_all(self: Scope, intents: list[Intent]) -> None:
    """``dispatch_all`` of a class that overrides the deprecated ``_dispatch_all``."""
    self._dispatch_all(intents)


class AbandonedGeneratorWarning(RuntimeWarning):
    """A scope inside a generator was closed by ``GeneratorExit`` and discarded its intents."""


def _warn_abandoned_generator(scope: Scope, dropped: list[Intent]) -> None:
    import logging  # only on this path: importing logging costs more than all of airlock
    import warnings

    message = (
        f"{scope!r} was opened inside a generator that was closed before the block ended"
        f" (GeneratorExit), so it discarded {len(dropped)} intent(s):"
        f" {clip(', '.join(repr(i) for i in dropped[:5]), 400)}. A scope inside a"
        f" generator is also current for the caller between yields; open the scope around"
        f" the loop that consumes the generator instead."
    )
    logging.getLogger("airlock").warning("airlock: %s", message)
    warnings.warn(message, AbandonedGeneratorWarning, stacklevel=3)


def _is_descendant(candidate: Any, scope: Scope) -> bool:
    """Whether an *open* scope nested in ``scope`` lies between ``candidate`` and it."""
    open_below = False
    while isinstance(candidate, Scope):
        if candidate is scope:
            return open_below
        open_below = open_below or candidate._state == OPEN
        candidate = candidate._parent
    return False


# -- opening scopes ---------------------------------------------------------------


def resolve_scope_class(value: object, *, source: str = "scope class") -> type[Scope]:
    """A ``Scope`` subclass from itself, a registered name or a dotted path."""
    obj = named("scope", value, source) if isinstance(value, str) else value
    if not (isinstance(obj, type) and issubclass(obj, Scope)):
        raise UsageError(
            f"{source} must be a subclass of airlock.Scope, a registered scope name such"
            f" as 'default', or a dotted path to one; got {value!r}."
        )
    return obj


def scope(
    *,
    policy: object = None,
    executor: object = None,
    _cls: object = None,
    **scope_kwargs: Any,
) -> Scope:
    """Open a boundary for effects: ``with airlock.scope() as s:`` (or ``async with``).

    On normal exit the scope flushes (policies apply, then the executor runs
    what is allowed); on an exception it discards. ``policy``, ``executor``
    and ``_cls`` (the ``Scope`` class) may be objects, registered names or
    dotted paths; what is not given comes from ``airlock.configure()``.
    Extra keyword arguments go to the scope class (configured
    ``scope_kwargs`` apply only when ``_cls`` is not given).
    """
    if _cls is not None:
        cls = resolve_scope_class(_cls, source="_cls")
        return cls(policy=policy, executor=executor, **scope_kwargs)
    configured = defaults.installed or defaults.current()
    if configured.scope_kwargs:
        scope_kwargs = {**configured.scope_kwargs, **scope_kwargs}
    elif policy is None and executor is None and not scope_kwargs:
        return configured.scope_cls()  # type: ignore[no-any-return]
    made: Scope = configured.scope_cls(policy=policy, executor=executor, **scope_kwargs)
    return made


def _scoped(func: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    """Run each call of the decorated function in its own scope.

    The runtime body of ``scoped``; its typed signature and full documentation
    are on the ``scoped`` overloads below.
    """

    def decorate(fn: Any) -> Any:
        if isinstance(fn, (staticmethod, classmethod)):  # keep the descriptor outermost
            return type(fn)(decorate(fn.__func__))
        if not callable(fn):
            raise UsageError(f"@airlock.scoped() decorates a function, got {fn!r}.")
        import functools  # at decoration time, so that importing airlock stays cheap
        import inspect

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                async with scope(**options):
                    return await fn(*args, **kwargs)

            return run_async

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            with scope(**options):
                return fn(*args, **kwargs)

        return run

    return decorate if func is None else decorate(func)


if TYPE_CHECKING:

    @overload
    def scoped(func: Callable[P, R], /) -> Callable[P, R]: ...

    @overload
    def scoped(
        *,
        policy: object = ...,
        executor: object = ...,
        _cls: object = ...,
        **scope_kwargs: Any,
    ) -> Callable[[Callable[P, R]], Callable[P, R]]: ...

    def scoped(func: Callable[..., Any] | None = None, /, **options: Any) -> Any:
        """Run each call of the decorated function in its own ``airlock.scope(**options)``.

        Works on plain functions, ``async def`` functions and methods, and under
        ``@app.task`` / ``@dramatiq.actor``. ``@airlock.scoped`` without
        parentheses works too.

        """

else:
    scoped = _scoped
    scoped.__name__ = scoped.__qualname__ = "scoped"


def get_current_scope() -> Scope | None:
    """The innermost open scope in this context, or ``None``."""
    current = get_scope()
    if isinstance(current, PolicyGuard):
        return current.scope  # type: ignore[no-any-return]
    if current is not None and current._state != OPEN:
        return None  # a context copied inside a scope that has since ended
    return current  # type: ignore[no-any-return]


__all__ = [
    "AbandonedGeneratorWarning",
    "Scope",
    "get_current_scope",
    "resolve_scope_class",
    "scope",
    "scoped",
]
