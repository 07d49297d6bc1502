"""Scopes decide *when* effects escape: a buffer with a lifecycle and an edge."""

from __future__ import annotations

from _thread import RLock
from operator import length_hint

from airlock import config
from airlock._context import (
    DISCARDED,
    EXITED,
    FLUSHED,
    GUARDED,
    NEW,
    OPEN,
    PolicyGuard,
    get_scope,
    reset_scope,
    set_scope,
)
from airlock.errors import PolicyEnqueueError, ScopeStateError, UsageError
from airlock.executors import dispatch, fail, sync_executor
from airlock.intents import NO_KWARGS, Intent
from airlock.plugins import lifecycle as _hooks
from airlock.plugins import resolve_executor, resolve_policy, resolve_scope_class

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

_STATE_NAMES = {
    NEW: "new",
    OPEN: "open",
    EXITED: "exited",
    FLUSHED: "flushed",
    DISCARDED: "discarded",
}


class Scope:
    """A buffer of intents with a lifecycle: open, then flushed or discarded.

    Use it through ``airlock.scope()``. Subclasses change the edge:
    ``should_flush(error)`` picks flush or discard, ``before_descendant_flushes``
    decides what nested scopes may release, and ``_dispatch_all(intents)``
    decides when the allowed intents actually go (``DjangoScope`` defers it to
    ``transaction.on_commit``).

    ``on_dispatch_error`` is ``"stop"`` (default: the first executor failure
    ends the flush) or ``"continue"`` (try every intent, then report); either
    way a failure raises ``DispatchError`` with the full accounting.
    """

    # The buffer, ``_raw``, is a flat list of entries of three slots each:
    # ``task, args, kwargs-or-None`` for an intent enqueued the common way (its
    # Intent object is only made if someone asks, see ``_materialize``),
    # ``intent, None, None`` for an ``Intent`` object and ``None, None, None``
    # for one taken back out. An entry is only ever appended (one ``extend``)
    # or replaced whole (one slice assignment), so threads sharing a scope
    # never see half an entry. ``_sink`` is ``_raw`` while ``enqueue()`` may
    # append the common way, else ``None``: it is set when the scope is made
    # (only an entered scope is ever current) and cleared on exit. ``_parent``
    # and ``_token`` are set on enter. Without an Intent object per intent,
    # the garbage collector has nothing per intent to walk (a tuple of plain
    # arguments it soon untracks).
    __slots__ = ("__weakref__", "_parent", "_plan", "_raw", "_sink", "_state", "_token")
    _sink: list[Any] | None
    _token: Token[Any]

    #: The class keeps ``Scope``'s ``exit``, ``should_flush``, ``flush``,
    #: ``discard`` and ``_dispatch_all``, so a scope of it with the sync
    #: executor may run them inline (its plan is ``direct``).
    _plain = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._plain = all(
            getattr(cls, name) is getattr(Scope, name)
            for name in ("exit", "should_flush", "flush", "discard", "_dispatch_all")
        )

    def __init__(
        self,
        *,
        policy: object = None,
        executor: object = None,
        on_dispatch_error: Literal["stop", "continue"] = "stop",
    ) -> None:
        defaults = config.current()
        plan = defaults.plan
        if (
            plan is None
            or policy is not None
            or executor is not None
            or on_dispatch_error != "stop"
            or (plan.direct and not self._plain)  # a class other than the configured one
        ):
            if on_dispatch_error != "stop" and on_dispatch_error != "continue":
                raise UsageError(
                    f"on_dispatch_error must be 'stop' or 'continue', got {on_dispatch_error!r}."
                )
            plan = config.Plan(
                defaults.make_policy()
                if policy is None
                else resolve_policy(policy, source="scope policy"),
                defaults.executor
                if executor is None
                else resolve_executor(executor, source="scope executor"),
                keep_going=on_dispatch_error == "continue",
                plain_scope=self._plain,
            )
        self._plan = plan
        self._raw: list[Any] = []
        self._sink = None if plan.screens else self._raw
        self._state = NEW

    # -- inspection -------------------------------------------------------

    @property
    def intents(self) -> list[Intent]:
        """Everything buffered here, own and captured, in order (a copy)."""
        return _materialize(self)

    @property
    def own_intents(self) -> list[Intent]:
        """Intents enqueued directly in this scope."""
        return [i for i in _materialize(self) if i.origin is self]

    @property
    def captured_intents(self) -> list[Intent]:
        """Intents captured from nested scopes when they exited."""
        return [i for i in _materialize(self) if i.origin is not self]

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
        """The scope that was current when this one was entered."""
        return None if self._state == NEW else self._parent

    def __repr__(self) -> str:
        state = _STATE_NAMES.get(self._state, "?")
        raw = self._raw
        count = sum(
            1 for i in range(0, len(raw), 3) if raw[i] is not None or raw[i + 1] is not None
        )
        return f"<{type(self).__name__} {state}, {count} intents>"

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

    def _dispatch_all(self, intents: list[Intent]) -> None:
        """Send the intents that survived policies and ancestors, in order."""
        dispatch(intents, self._plan.executor, keep_going=self._plan.keep_going)

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
        self._sink = None
        self._state = EXITED
        try:
            reset_scope(self._token)
        except ValueError:
            raise self._exited_elsewhere(current) from None

    def _exited_elsewhere(self, current: object) -> ScopeStateError:
        """The error for an exit in another context than the entry's (repaired first)."""
        if current is self:  # a copied context: repair it; a fresh one never saw us
            set_scope(self._parent)
        return ScopeStateError(
            f"{self!r} was exited in a different context than the one that entered it"
            f" (another thread, asyncio task or greenlet). Its {len(self.intents)}"
            f" buffered intents are kept: call .flush() or .discard() on it."
        )

    def flush(self) -> list[Intent]:
        """Apply policies, let ancestors capture, dispatch the rest; return what went out.

        Raises ``ScopeStateError`` unless the scope has exited and neither
        flushed nor discarded, and ``DispatchError`` if the executor fails.
        """
        sent = self._flush()
        return _materialize(self) if sent is None else sent

    def _flush(self) -> list[Intent] | None:
        """``flush()``, returning ``None`` for "the whole buffer went out"."""
        if self._state != EXITED:
            raise ScopeStateError(self._refuse("flush"))
        self._state = FLUSHED
        return self._send()

    def _send(self) -> list[Intent] | None:
        """The flush of an ended scope, now ``FLUSHED``; ``None`` for "all of it"."""
        raw = self._raw
        if not raw:
            return None
        if self._plan.direct and self._parent is None and _hooks.dispatched is None:
            # Straight through the sync executor, as dispatch() would call it.
            entries = iter(raw)
            try:
                # zip(strict=...) would parse a keyword at every flush; the
                # buffer holds whole entries, so the three iterators end together.
                for task, args, kwargs in zip(entries, entries, entries):  # noqa: B905
                    if args is None:
                        if task is not None:
                            sync_executor(task)
                    elif kwargs:
                        task(*args, **kwargs)
                    else:
                        task(*args)
            except Exception as exc:
                _failed_at(self, len(raw) - length_hint(entries) - 3, exc)
            return None
        intents = _materialize(self)
        if self._plan.filters or self._plan.layered:
            intents = self._judge(intents)
        if self._parent is not None and intents:
            intents = self._offer_to_ancestors(intents)
        if intents:
            self._dispatch_all(intents)
        return intents

    def discard(self) -> list[Intent]:
        """Drop the buffer without dispatching anything; return what was dropped."""
        if self._state != EXITED:
            raise ScopeStateError(self._refuse("discard"))
        self._state = DISCARDED
        intents = _materialize(self)
        self._raw = []
        if intents and _hooks.discarded is not None:
            _hooks.discarded(scope=self, intents=list(intents))
        return intents

    def _refuse(self, action: str) -> str:
        if self._state == OPEN:
            return f"Cannot {action} {self!r} while it is open; it ends with its block."
        if self._state == NEW:
            return f"Cannot {action} {self!r}: it was never entered."
        return f"Cannot {action} {self!r}: it was already {_STATE_NAMES[self._state]}."

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

    def _forget(self, intent: Intent) -> None:
        """Take ``intent`` back out of the buffer (its ``enqueue()`` raised)."""
        raw = self._raw
        with _lock:
            for i in range(len(raw) - 3, -1, -3):
                if raw[i] is intent and raw[i + 1] is None:
                    raw[i : i + 3] = (None, None, None)
                    return

    def _judge(self, intents: list[Intent]) -> list[Intent]:
        """Keep the intents every applicable policy allows, in order."""
        policy = self._plan.policy if self._plan.filters else None
        on_dropped = _hooks.dropped
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
                    ancestor._capture([i for i in intents if id(i) not in keep])
                    intents = [i for i in intents if id(i) in keep]
            ancestor = ancestor._parent
        return intents

    def _capture(self, intents: list[Intent]) -> None:
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
        self._raw.extend([slot for intent in intents for slot in (intent, None, None)])

    # -- context manager --------------------------------------------------

    __enter__ = enter

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._plan.direct and get_scope() is self and self._state == OPEN:
            # Scope's own exit() and flush() inline, for the end of every
            # block: each step saved is measurable in a one-intent scope.
            self._sink = None
            try:
                reset_scope(self._token)
            except ValueError:
                self._state = EXITED
                raise self._exited_elsewhere(self) from None
            if exc is not None:
                self._state = EXITED
                self.discard()
                return
            self._state = FLUSHED
            raw = self._raw
            if len(raw) == 3 and self._parent is None and _hooks.dispatched is None:
                # One intent through the sync executor, as _send() would run it.
                task, args, kwargs = raw
                try:
                    if args is None:
                        if task is not None:
                            sync_executor(task)
                    elif kwargs:
                        task(*args, **kwargs)
                    else:
                        task(*args)
                except Exception as error:
                    _failed_at(self, 0, error)
            elif raw:
                self._send()
            return
        self.exit()  # a subclass's own steps, another executor, or an uncommon case
        if self.should_flush(exc):
            self.flush()
        else:
            self.discard()

    async def __aenter__(self: S) -> S:
        return self.enter()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)


_allocate = object.__new__

#: Serialises turning buffer entries into Intent objects (and taking them out).
_lock = RLock()


def _materialize(scope: Scope) -> list[Intent]:
    """The scope's intents in order, as ``Intent`` objects.

    An entry buffered without one gets its ``Intent`` now, written back in
    place, so every later look at the buffer sees the same object.
    """
    raw = scope._raw
    intents: list[Intent] = []
    with _lock:
        for i in range(0, len(raw), 3):
            task, args = raw[i], raw[i + 1]
            if args is None:
                if task is not None:
                    intents.append(task)
                continue
            intent = Intent(task, args, raw[i + 2] or NO_KWARGS, None, (), scope)
            raw[i : i + 3] = (intent, None, None)  # the whole entry, in its place
            intents.append(intent)
    return intents


def _failed_at(scope: Scope, start: int, exc: Exception) -> None:
    """The sync run of ``scope`` failed at the entry at ``start``: account and raise."""
    intents = _materialize(scope)
    failing = scope._raw[start]
    position = next(p for p, intent in enumerate(intents) if intent is failing)
    fail(intents[:position], [(failing, exc)], intents[position + 1 :])


def _is_descendant(candidate: Any, scope: Scope) -> bool:
    """Whether an *open* scope nested in ``scope`` lies between ``candidate`` and it."""
    open_below = False
    while isinstance(candidate, Scope):
        if candidate is scope:
            return open_below
        open_below = open_below or candidate._state == OPEN
        candidate = candidate._parent
    return False


def _scope(**options: Any) -> Scope:
    """Open a boundary for effects: ``with airlock.scope() as s:`` (or ``async with``).

    Options: ``policy``, ``executor`` and ``_cls`` (objects, registered names
    or dotted paths), and keyword arguments for the scope class; what is not
    given comes from ``airlock.configure()``. They arrive as one mapping, so a
    bare ``airlock.scope()`` tests one thing (type checkers and the reference
    see the keyword-only signature).
    """
    if not options:
        plan = config.plain_plan
        if plan is not None:  # Scope() without the call machinery: as __init__ would
            new = _allocate(Scope)
            new._plan = plan
            new._raw = new._sink = []
            new._state = NEW
            return new
    return _configured_scope(**options)


def _configured_scope(
    *,
    policy: object = None,
    executor: object = None,
    _cls: object = None,
    **scope_kwargs: Any,
) -> Scope:
    """A scope from the given options, the configured defaults filling the rest."""
    defaults = config.current()
    if _cls is not None:
        cls = resolve_scope_class(_cls, source="_cls")
        return cls(policy=policy, executor=executor, **scope_kwargs)
    if defaults.scope_kwargs:
        scope_kwargs = {**defaults.scope_kwargs, **scope_kwargs}
    return defaults.scope_cls(policy=policy, executor=executor, **scope_kwargs)


if TYPE_CHECKING:

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

else:
    scope = _scope
    scope.__name__ = scope.__qualname__ = "scope"


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
        import functools
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


__all__ = ["Scope", "get_current_scope", "scope", "scoped"]
