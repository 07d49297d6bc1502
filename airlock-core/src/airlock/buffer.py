"""How an effect enters a scope (``enqueue``), the buffer it waits in, and its in-process run.

This module alone knows the buffer's layout, the engine's speed trick: a flat
list of entries of three slots each.

- ``task, args, kwargs-or-None``: an intent enqueued the common way. Its
  ``Intent`` object is made only if someone asks (``intents()``), so the
  common enqueue allocates nothing the garbage collector must walk.
- ``intent, None, None``: an ``Intent`` object.
- ``None, None, None``: an intent taken back out.
- ``SEAL, None, None``: where the buffer stopped taking intents.

Entries are appended whole (one ``list.extend``, atomic under the GIL) or
replaced whole (one slice assignment), so threads sharing a scope (through
``contextvars.copy_context()``) never see half an entry.

Such a thread may enqueue while the owner ends the scope. The owner first
stops the scope being open, then seals the buffer by appending the seal
entry. Every append looks at the scope's state afterwards; if the scope is no
longer open, the new entry counts only when it lies before the seal (the
owner sends or discards everything before it); otherwise it is taken out
again and ``enqueue()`` raises. So an ``enqueue()`` that returns is always in
the part of the buffer the owner sends or discards.

The scope class (``airlock.scopes``) owns the lifecycle and keeps the list
(``_entries``); the functions here are all that read or write it. What
``enqueue()`` reads of a scope is that list, its state, whether it takes
plain calls (``_takes_plain_calls``), and its ``_admit`` / ``intent_enqueued`` steps on
the careful path.
"""

from __future__ import annotations

from _thread import allocate_lock
from collections.abc import Mapping
from operator import length_hint

from airlock import arguments
from airlock._context import GUARDED, OPEN, get_layers, get_scope
from airlock.describing import clip
from airlock.dispatching import report, sync_executor
from airlock.errors import (
    DispatchError,
    NoScopeError,
    PolicyEnqueueError,
    ScopeStateError,
    UsageError,
)
from airlock.intents import NO_KWARGS, Intent, task_name
from airlock.lifecycle import lifecycle

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, ParamSpec, Protocol, overload

    from airlock.routing import TaskRouter

    P = ParamSpec("P")

    class _TaskObject(Protocol):
        def enqueue(self, *args: Any, **kwargs: Any) -> object: ...


SEAL = object()
_SEAL_ENTRY = (SEAL, None, None)
_GONE = (None, None, None)

#: Serialises the rare paths that read entries and then rewrite them: making
#: Intent objects, taking an entry out. Appends and the seal need no lock.
_lock = allocate_lock()

#: ``arguments.fits.get``, bound once for ``enqueue()``.
_fits = arguments.fits.get


def seal(entries: list[Any]) -> int:
    """Take no more intents; return where the buffer ends (the seal entry's index)."""
    entries.extend(_SEAL_ENTRY)
    end = len(entries) - 3
    return end if entries[end] is SEAL else _seal_position(entries)


def end_of(entries: list[Any]) -> int:
    """Where the buffer ends: at the seal, or after the last entry while it is not sealed."""
    seal_at = _seal_position(entries)
    return len(entries) if seal_at < 0 else seal_at


def kept(entries: list[Any], entry: tuple[Any, Any, Any], count: int = 1) -> bool:
    """Entries appended (by one extend) while their scope was ending: kept if before the seal.

    ``entry`` is the first of the ``count`` entries; after the seal they are
    taken out again, and the answer is ``False``.
    """
    with _lock:
        seal_at = _seal_position(entries)
        if seal_at < 0:  # the seal is not in yet: these entries come before it
            return True
        for position in range(len(entries) - 3, seal_at, -3):
            slots = entries[position : position + 3]
            if slots[0] is entry[0] and slots[1] is entry[1] and slots[2] is entry[2]:
                entries[position : position + 3 * count] = [None] * (3 * count)
                return False
        # Before the seal, or an identical entry after it was taken out by its own thread.
        return True


def add_intents(entries: list[Any], intents: list[Intent]) -> tuple[Any, Any, Any]:
    """Append ``Intent`` objects (a nested scope's, captured); return the first entry."""
    entries.extend([slot for intent in intents for slot in (intent, None, None)])
    return (intents[0], None, None)


def clear_sealed(entries: list[Any]) -> None:
    """Forget the intents before the seal (their scope discarded them).

    Entries appended after the seal stay, so that their own thread finds them
    there, takes them out and raises.
    """
    with _lock:
        del entries[: _seal_position(entries)]


def remove(entries: list[Any], intent: Intent) -> None:
    """Take ``intent`` back out (its ``enqueue()`` raised after buffering it)."""
    with _lock:
        for position in range(len(entries) - 3, -1, -3):
            if entries[position] is intent and entries[position + 1] is None:
                entries[position : position + 3] = _GONE
                return


def intents_of(entries: list[Any], origin: object) -> list[Intent]:
    """The buffered intents in order, as ``Intent`` objects.

    An entry buffered without one gets its ``Intent`` now (``origin`` is its
    scope), written back in place, so every later look at the buffer sees the
    same object.
    """
    found: list[Intent] = []
    with _lock:
        for position in range(0, end_of(entries), 3):
            task, args = entries[position], entries[position + 1]
            if args is None:
                if task is not None:
                    found.append(task)
                continue
            kwargs = entries[position + 2] or NO_KWARGS
            intent = Intent(task, args, kwargs, None, (), origin)  # type: ignore[arg-type]
            entries[position : position + 3] = (intent, None, None)
            found.append(intent)
    return found


def count(entries: list[Any]) -> int:
    """How many intents the buffer holds."""
    return sum(1 for position in range(0, end_of(entries), 3) if entries[position] is not None)


def run_in_process(entries: list[Any], end: int, origin: object, router: TaskRouter | None) -> None:
    """Run the tasks before ``end`` here, in order, as the ``sync`` executor would.

    With a ``router`` (the scope's executor routes by task kind), the run stops
    at the first task that goes to another executor: that intent and the rest
    go through the router. A task that raises stops the run: the
    ``DispatchError`` reports what ran, what failed and what is pending.
    """
    local = None if router is None else router.local
    if end == 3:  # one intent, the most common scope: no copy, no zip to set up
        rows: Any = ((entries[0], entries[1], entries[2]),)
    else:  # a copy, so that entries appended after the seal cannot shift the count
        window = entries[:end]
        walk = iter(window)
        # zip(strict=...) would parse a keyword at every flush; the window holds
        # whole entries, so the three iterators end together.
        rows = zip(walk, walk, walk)  # noqa: B905
    try:
        for task, args, kwargs in rows:
            if args is None:
                if task is None:
                    continue
                if local is not None and not router.runs_in_process(task.task):  # type: ignore[union-attr]
                    break
                sync_executor(task)
            elif local is not None and not (local.get(type(task)) or router.runs_in_process(task)):  # type: ignore[union-attr]
                break
            elif kwargs:
                task(*args, **kwargs)
            else:
                task(*args)
        else:
            return
    except Exception as exc:
        _account(entries, 0 if end == 3 else len(window) - length_hint(walk) - 3, exc, origin)
    _route_the_rest(entries, 0 if end == 3 else len(window) - length_hint(walk) - 3, origin, router)


def _account(entries: list[Any], position: int, error: Exception, origin: object) -> None:
    """The in-process run failed at ``position``: report what ran, what failed, what waits."""
    intents = intents_of(entries, origin)
    failing = entries[position]
    index = next(i for i, intent in enumerate(intents) if intent is failing)
    report(intents[:index], [(failing, error)], intents[index + 1 :])


def _route_the_rest(entries: list[Any], position: int, origin: object, router: Any) -> None:
    """Send the intents from ``position`` on through the router; those before it ran here."""
    intents = intents_of(entries, origin)
    first = entries[position]
    index = next(i for i, intent in enumerate(intents) if intent is first)
    try:
        router.dispatch_many(intents[index:])
    except DispatchError as exc:
        report([*intents[:index], *exc.dispatched], exc.failed, exc.pending)


def _seal_position(entries: list[Any]) -> int:
    """Where the seal entry is, searching back from the end; ``-3`` if it is not in."""
    for position in range(len(entries) - 3, -1, -3):
        if entries[position] is SEAL:
            return position
    return -3


# -- enqueue -------------------------------------------------------------------


def _enqueue(
    task: object,
    /,
    *args: Any,
    _dispatch_options: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    """Buffer the intent to run ``task(*args, **kwargs)`` in the current scope.

    The runtime body of ``enqueue``; its typed signature and full documentation
    are on the ``enqueue`` overloads below.
    """
    scope = get_scope()
    if (
        scope is not None
        and scope._takes_plain_calls  # no policy screens, no layers (airlock.policy() clears it)
        and _dispatch_options is None
        and lifecycle.enqueued is None
        and callable(task)
    ):
        # The common case: a checked call appended as one entry, no Intent object.
        try:
            known = not kwargs and _fits(task) == len(args)  # see airlock.arguments
        except TypeError:  # an unhashable task
            known = False
        if not known:
            arguments.check(task, args, kwargs)
        entry = (task, args, kwargs or None)
        entries = scope._entries
        entries.extend(entry)
        if scope._state is not OPEN and not kept(entries, entry):
            raise _refusal(scope, task)
        return
    _enqueue_intent(scope, task, args, kwargs, _dispatch_options)


def _enqueue_intent(
    scope: Any,
    task: object,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    options: Mapping[str, Any] | None,
) -> None:
    """Everything ``enqueue`` checks, then buffer an ``Intent`` object."""
    if not callable(task) and not isinstance(task, str) and not _is_task_object(task):
        raise UsageError(
            f"airlock.enqueue() needs a callable, a task object (one with an enqueue()"
            f" method, such as a django.tasks.Task) or a string task reference as its first"
            f" argument, got {clip(repr(task), 100)} ({type(task).__name__}). Pass the task"
            f" itself, e.g. airlock.enqueue(send_email, user_id=1), or its dotted path."
        )
    if options is not None:
        if not isinstance(options, Mapping):
            raise UsageError(
                f"_dispatch_options must be a mapping such as {{'countdown': 60}}, got"
                f" {clip(repr(options), 100)} ({type(options).__name__})."
            )
        options = dict(options)
    if scope is None:
        raise NoScopeError(
            f"Cannot enqueue {task_name(task)!r} outside a scope. Wrap the code in"
            f" `with airlock.scope():` or decorate its entry point with @airlock.scoped()."
        )
    if scope._state is not OPEN:
        raise _refusal(scope, task)
    if not isinstance(task, str):
        arguments.check(task, args, kwargs)
    intent = Intent(task, args, kwargs or NO_KWARGS, options, get_layers(), scope)
    if scope._plan.screens or intent.local_policies:
        scope._admit(intent)
    entry = (intent, None, None)
    entries = scope._entries
    entries.extend(entry)
    if scope._state is not OPEN and not kept(entries, entry):
        raise _refusal(scope, task)
    try:
        if scope._hears_enqueues:
            scope.intent_enqueued(intent)
        if lifecycle.enqueued is not None:
            lifecycle.enqueued(scope=scope, intent=intent)
    except BaseException:
        remove(entries, intent)  # an enqueue that raised buffers nothing
        raise


def _is_task_object(task: object) -> bool:
    """A framework task that is not itself callable (``django.tasks.Task``)."""
    return callable(getattr(task, "enqueue", None))


def _refusal(scope: Any, task: object) -> UsageError:
    if scope._state == GUARDED:
        return PolicyEnqueueError(
            f"Cannot enqueue {task_name(task)!r} from inside a policy callback:"
            f" policies judge intents, they do not create them."
        )
    return ScopeStateError(
        f"Cannot enqueue {task_name(task)!r}: the current scope {scope!r} has already"
        f" ended. This happens when a thread or task started inside a scope outlives it;"
        f" give that work its own `airlock.scope()`."
    )


if TYPE_CHECKING:
    # A type checker checks the arguments against the task's signature; with
    # _dispatch_options (which PEP 612 cannot express next to P.kwargs) or a
    # string task, they are not checked.

    @overload
    def enqueue(task: Callable[P, object], /, *args: P.args, **kwargs: P.kwargs) -> None: ...

    @overload
    def enqueue(
        task: Callable[..., object] | str,
        /,
        *args: Any,
        _dispatch_options: Mapping[str, Any] | None,
        **kwargs: Any,
    ) -> None: ...

    @overload
    def enqueue(task: str | _TaskObject, /, *args: Any, **kwargs: Any) -> None: ...

    def enqueue(task: object, /, *args: Any, **kwargs: Any) -> None:
        """Buffer the intent to run ``task(*args, **kwargs)`` in the current scope.

        Nothing runs here: the scope decides when the effect escapes, policies
        decide whether, and the executor decides how. ``_dispatch_options`` travel
        to the executor untouched (``countdown``, ``queue``, ``priority``, ...).
        The arguments are checked against the task's signature now, as calling
        it would (see ``airlock.skip_argument_check``); type checkers check them
        too (unless ``_dispatch_options`` is given or the task is a string).

        Raises:
            TaskArgumentError: the arguments do not fit the task's signature
                (also a ``TypeError``).
            UsageError: ``task`` is neither callable nor a string reference, or
                ``_dispatch_options`` is not a mapping.
            NoScopeError: no scope is active.
            PolicyEnqueueError: called from inside a policy callback.
            ScopeStateError: the current scope has already ended.
            PolicyViolation: a policy refused the intent (it is not buffered).

        """

else:
    enqueue = _enqueue
    enqueue.__name__ = enqueue.__qualname__ = "enqueue"


__all__ = [
    "add_intents",
    "clear_sealed",
    "count",
    "enqueue",
    "intents_of",
    "kept",
    "remove",
    "run_in_process",
    "seal",
]
