"""What an effect is: ``Intent``, and the names a task goes by."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from types import FunctionType, MappingProxyType

from airlock.describing import describe, describe_call
from airlock.lifecycle import lifecycle

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from airlock.protocols import Policy
    from airlock.scopes import Scope


#: Shared by every intent enqueued without keyword arguments (saves a dict each).
NO_KWARGS: Mapping[str, Any] = MappingProxyType({})


class Intent:
    """One buffered effect: a task, its arguments and how to dispatch it.

    Intents compare and hash by identity: two calls with the same arguments
    are two effects. ``origin`` is the scope the intent was enqueued in, so a
    parent can tell its own intents from those it captured. ``headers`` are
    string key/values that travel with the message to the worker (a plugin
    such as airlock-opentelemetry puts its trace context there); executors
    carry them where their broker carries message metadata.
    """

    __slots__ = (
        "args",
        "dispatch_options",
        "headers",
        "kwargs",
        "local_policies",
        "origin",
        "task",
    )

    task: Any  # a callable, a task object (enqueue method) or a string reference
    args: tuple[Any, ...]
    kwargs: Mapping[str, Any]
    dispatch_options: Mapping[str, Any] | None
    local_policies: tuple[Policy, ...]
    origin: Scope | None
    headers: dict[str, str] | None

    def __init__(
        self,
        task: Any,
        args: tuple[Any, ...] = (),
        kwargs: Mapping[str, Any] = NO_KWARGS,
        dispatch_options: Mapping[str, Any] | None = None,
        local_policies: tuple[Policy, ...] = (),
        origin: Scope | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.task = task
        self.args = args
        self.kwargs = kwargs
        self.dispatch_options = dispatch_options
        self.local_policies = local_policies
        self.origin = origin
        self.headers = headers

    @property
    def name(self) -> str:
        """The task's short name (``send_email``), used by ``BlockTasks`` and logs."""
        return task_name(self.task)

    def __repr__(self) -> str:
        """``<Intent send_email(42, to='a@b.c')>``: bounded, and never raises."""
        try:
            name = self.name
        except Exception:
            name = "?"
        call = describe_call(name, self.args, self.kwargs)
        options = f" options={describe(self.dispatch_options)}" if self.dispatch_options else ""
        return f"<Intent {call}{options}>"


def task_name(task: object) -> str:
    """The short name of a task: a function, a Celery task, a Dramatiq actor or a string."""
    if isinstance(task, str):
        return task.rpartition(".")[2]
    if not isinstance(task, FunctionType):
        reference = _plugin_reference(task)
        if reference is not None:
            return reference.rpartition(".")[2]
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
    """The task's full name: a string as given, a task's ``name``, or ``module.qualname``.

    A task object's plugin names it first (``airlock_task_reference``), when
    one implements that hook.
    """
    if isinstance(task, str):
        return task
    if not isinstance(task, FunctionType):
        reference = _plugin_reference(task)
        if reference is not None:
            return reference
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


def _plugin_reference(task: object) -> str | None:
    """The name the task's plugin gives it (``airlock_task_reference``), or ``None``."""
    ask = lifecycle.task_reference
    if ask is None:
        return None
    try:
        found = ask(task=task)
    except Exception:  # naming a task is part of describing it, which must never fail
        return None
    return found if isinstance(found, str) else None


__all__ = ["NO_KWARGS", "Intent", "task_name", "task_reference"]
