"""Checking an ``enqueue()`` call's arguments against its task's signature, at the call.

``send_email.delay(order_idd=1)`` raises ``TypeError`` at once; without this
check ``airlock.enqueue(send_email, order_idd=1)`` would fail only at flush,
after the commit, or (under the outbox) in a row retried for an hour.

The check has to cost next to nothing, and two tricks see to it; they live
here, and only here. ``inspect.Signature.bind`` costs microseconds, more than
a whole enqueue. So, once per task, airlock compiles a *stub*: a function with
the task's parameters (names, kinds, which have defaults) and an empty body.
Calling the stub with the enqueued arguments makes Python itself check them
and raise the very ``TypeError`` the task would raise. And whether a call fits
depends only on how many positional arguments it has and which keywords, never
on their values: once a number of positional arguments (and no keywords) has
fit a task, ``fits`` remembers it, and ``enqueue()`` skips the stub for the
next call of that shape, the common case, with one dictionary lookup. Both
caches are bounded, so tasks made on the fly (lambdas in a loop) cannot grow
them without limit.
"""

from __future__ import annotations

from types import MethodType

from airlock import registry
from airlock.errors import TaskArgumentError, UsageError
from airlock.intents import task_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    import inspect
    from collections.abc import Callable, Mapping
    from typing import Any

#: How many tasks keep a stub before the cache starts over.
CACHE_SIZE = 4096

#: Task -> stub, or ``None`` for "not checked" (unknown signature, or opted out).
stubs: dict[object, Callable[..., object] | None] = {}

#: Task -> a number of positional arguments (and no keywords) known to fit it.
fits: dict[object, int] = {}

#: Tasks whose arguments are never checked (``skip_argument_check``).
_skipped: set[object] = set()


def skip_argument_check(task: Any) -> Any:
    """Never check the arguments of ``task`` at enqueue; returns ``task`` (a decorator too).

    For a task whose signature does not tell what it accepts (a wrapper
    without ``functools.wraps``, arguments a framework fills in). A Celery
    task declared with ``typing=False`` is not checked either.
    """
    try:
        _skipped.add(task)
    except TypeError:
        raise UsageError(
            f"skip_argument_check() takes a task (a function or task object), got the"
            f" unhashable {type(task).__name__} {task!r}."
        ) from None
    stubs[task] = None
    return task


def check(task: object, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """Raise ``TaskArgumentError`` if ``task(*args, **kwargs)`` does not fit the signature.

    ``enqueue()`` calls it unless ``fits`` already knows the call's shape.
    """
    try:
        stub = stubs[task]
    except (KeyError, TypeError):  # not seen yet, or unhashable
        stub = _stub_of(task)
    if stub is not None:
        try:
            stub(*args, **kwargs)
        except TypeError as exc:
            said = str(exc)
            said += "" if said.endswith((".", "?", "!")) else "."
            raise TaskArgumentError(
                f"airlock.enqueue({task_name(task)}, ...): {said} The arguments do not fit"
                f" the task's signature, so the call was refused here instead of failing"
                f" after the flush; nothing was buffered. If the signature is wrong, exempt"
                f" the task with airlock.skip_argument_check({task_name(task)})."
            ) from None
    if not kwargs and not isinstance(task, MethodType):  # a method would keep its instance
        try:  # noqa: SIM105 - contextlib would cost `import airlock` more than this saves
            fits[task] = len(args)
        except TypeError:  # an unhashable task is checked at every call
            pass


def _stub_of(task: object) -> Callable[..., object] | None:
    """The stub for ``task``, made and cached on first use."""
    if isinstance(task, MethodType):  # cached per function, so no instance is kept alive
        stub = _cached(task.__func__)
        if stub is None:
            return None
        receiver = task.__self__
        return lambda *args, **kwargs: stub(receiver, *args, **kwargs)
    return _cached(task)


def _cached(task: object) -> Callable[..., object] | None:
    try:
        if task in _skipped:
            return None
        return stubs[task]
    except KeyError:
        pass
    except TypeError:  # unhashable: check it, without caching
        return _make(task)
    stub = _make(task)
    if len(stubs) >= CACHE_SIZE:
        stubs.clear()
        fits.clear()
    stubs[task] = stub
    return stub


def _make(task: object) -> Callable[..., object] | None:
    import inspect  # once per task, so that importing airlock stays cheap

    target = registry.task_signature(task)
    if target is False:
        return None
    try:
        subject: Any = task if target is None else target
        signature = inspect.signature(subject)
    except (TypeError, ValueError):  # a builtin or an object without a readable signature
        return None
    return compile_stub(signature, task_name(task))


def compile_stub(signature: inspect.Signature, name: str) -> Callable[..., object]:
    """A function with ``signature``'s parameters and no body (see the module docstring)."""
    from inspect import Parameter as P  # noqa: N817
    from keyword import iskeyword

    parameters = list(signature.parameters.values())
    parts: list[str] = []
    keyword_only_marked = False
    for position, parameter in enumerate(parameters):
        kind = parameter.kind
        if kind is P.KEYWORD_ONLY and not keyword_only_marked:
            parts.append("*")
            keyword_only_marked = True
        if kind is P.VAR_POSITIONAL:
            parts.append(f"*{parameter.name}")
            keyword_only_marked = True
        elif kind is P.VAR_KEYWORD:
            parts.append(f"**{parameter.name}")
        elif parameter.default is P.empty:
            parts.append(parameter.name)
        else:
            parts.append(f"{parameter.name}=_default")
        following = parameters[position + 1 : position + 2]
        if kind is P.POSITIONAL_ONLY and (not following or following[0].kind is not kind):
            parts.append("/")
    function_name = name if name.isidentifier() and not iskeyword(name) else "task"
    namespace: dict[str, Any] = {"_default": None}
    # Parameter names are identifiers (inspect.Parameter checks), so this source is safe.
    exec(f"def {function_name}({', '.join(parts)}): pass", namespace)
    stub: Callable[..., object] = namespace[function_name]
    return stub


__all__ = ["check", "compile_stub", "skip_argument_check"]
