"""What an effect is (``Intent``) and how code expresses one (``enqueue``)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from types import MappingProxyType

from airlock import _context
from airlock._context import OPEN, get_layers, get_scope
from airlock.errors import NoScopeError, PolicyEnqueueError, ScopeStateError, UsageError
from airlock.plugins import lifecycle as _hooks

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, ParamSpec, Protocol, overload

    from airlock.protocols import Policy
    from airlock.scopes import Scope

    P = ParamSpec("P")

    class _TaskObject(Protocol):
        def enqueue(self, *args: Any, **kwargs: Any) -> object: ...


#: Shared by every intent enqueued without keyword arguments (saves a dict each).
NO_KWARGS: Mapping[str, Any] = MappingProxyType({})


class Intent:
    """One buffered effect: a task, its arguments and how to dispatch it.

    Intents compare and hash by identity: two calls with the same arguments
    are two effects. ``origin`` is the scope the intent was enqueued in, so a
    parent can tell its own intents from those it captured.
    """

    __slots__ = ("args", "dispatch_options", "kwargs", "local_policies", "origin", "task")

    task: Any  # a callable, a task object (enqueue method) or a string reference
    args: tuple[Any, ...]
    kwargs: Mapping[str, Any]
    dispatch_options: Mapping[str, Any] | None
    local_policies: tuple[Policy, ...]
    origin: Scope | None

    def __init__(
        self,
        task: Any,
        args: tuple[Any, ...] = (),
        kwargs: Mapping[str, Any] = NO_KWARGS,
        dispatch_options: Mapping[str, Any] | None = None,
        local_policies: tuple[Policy, ...] = (),
        origin: Scope | None = None,
    ) -> None:
        self.task = task
        self.args = args
        self.kwargs = kwargs
        self.dispatch_options = dispatch_options
        self.local_policies = local_policies
        self.origin = origin

    @property
    def name(self) -> str:
        """The task's short name (``send_email``), used by ``BlockTasks`` and logs."""
        return task_name(self.task)

    def __repr__(self) -> str:
        parts = [repr(a) for a in self.args]
        parts.extend(f"{k}={v!r}" for k, v in self.kwargs.items())
        options = f" options={dict(self.dispatch_options)!r}" if self.dispatch_options else ""
        return f"<Intent {self.name}({', '.join(parts)}){options}>"


def task_name(task: object) -> str:
    """The short name of a task: a function, a Celery task, a Dramatiq actor or a string."""
    if isinstance(task, str):
        return task.rpartition(".")[2]
    for attribute in ("actor_name", "name"):
        value = getattr(task, attribute, None)
        if isinstance(value, str):
            return value.rpartition(".")[2]
    name = getattr(task, "__name__", None)
    if isinstance(name, str):
        return name
    if isinstance(task, partial):
        return task_name(task.func)
    return type(task).__name__


def task_reference(task: object) -> str:
    """The task's full name: a string as given, a task's ``name``, or ``module.qualname``."""
    if isinstance(task, str):
        return task
    for attribute in ("actor_name", "name"):
        value = getattr(task, attribute, None)
        if isinstance(value, str):
            return value
    if isinstance(task, partial):
        return task_reference(task.func)
    module = getattr(task, "__module__", None)
    qualname = getattr(task, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str):
        return f"{module}.{qualname}"
    return task_name(task)


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
    if scope is not None:
        sink = scope._sink  # the open scope's buffer, or None when it must see an Intent
        if (
            sink is not None
            and _dispatch_options is None
            and callable(task)
            and not (_context.watched and (_hooks.enqueued is not None or get_layers()))
        ):
            # The common case, as one entry of three slots and no Intent object:
            # one extend, so threads sharing the scope never interleave slots.
            sink.extend((task, args, kwargs or None))
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
            f" argument, got {task!r} ({type(task).__name__}). Pass the task itself,"
            f" e.g. airlock.enqueue(send_email, user_id=1), or its dotted path."
        )
    if options is not None:
        if not isinstance(options, Mapping):
            raise UsageError(
                f"_dispatch_options must be a mapping such as {{'countdown': 60}}, got"
                f" {options!r} ({type(options).__name__})."
            )
        options = dict(options)
    if scope is None:
        raise NoScopeError(
            f"Cannot enqueue {task_name(task)!r} outside a scope. Wrap the code in"
            f" `with airlock.scope():` or decorate its entry point with @airlock.scoped()."
        )
    if scope._state is not OPEN:
        raise _refusal(scope, task)
    intent = Intent(task, args, kwargs or NO_KWARGS, options, get_layers(), scope)
    if scope._plan.screens or intent.local_policies:
        scope._admit(intent)
    scope._raw.extend((intent, None, None))
    if _hooks.enqueued is not None:
        try:
            _hooks.enqueued(scope=scope, intent=intent)
        except BaseException:
            scope._forget(intent)  # an enqueue that raised buffers nothing
            raise


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
        Type checkers check the arguments against the task's signature (unless
        ``_dispatch_options`` is given or the task is a string).

        Raises:
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


def _is_task_object(task: object) -> bool:
    """A framework task that is not itself callable (``django.tasks.Task``)."""
    return callable(getattr(task, "enqueue", None))


def _refusal(scope: Any, task: object) -> UsageError:
    if scope._state == _context.GUARDED:
        return PolicyEnqueueError(
            f"Cannot enqueue {task_name(task)!r} from inside a policy callback:"
            f" policies judge intents, they do not create them."
        )
    return ScopeStateError(
        f"Cannot enqueue {task_name(task)!r}: the current scope {scope!r} has already"
        f" ended. This happens when a thread or task started inside a scope outlives it;"
        f" give that work its own `airlock.scope()`."
    )
