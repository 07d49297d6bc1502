"""``install_global_intercept``: every ``.delay()`` of an app's tasks goes through airlock.

A migration tool, not steady-state architecture. It patches Celery's ``Task``
class once (whichever apps are installed) and only acts on tasks of the apps
it was installed for:

* inside a scope, ``.delay()`` / ``.apply_async()`` are buffered with their options;
* outside a scope they publish as before, with a ``DeprecationWarning``;
* with ``wrap_task_execution``, every run of those tasks happens inside
  ``airlock.scope()`` (flush on success, discard on error).

The executor's publish at flush, ``self.retry()`` and ``self.replace()`` go
straight to the broker: each task reaches a worker exactly once.
"""

from __future__ import annotations

import warnings
import weakref
from typing import Any

from celery import Task
from celery.signals import worker_init

import airlock
from airlock_celery._publishing import is_publishing, publishing
from airlock_celery.buffering import buffer_call
from airlock_celery.headers import running

#: Apps the intercept is installed for, each with its ``wrap_task_execution``.
_apps: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
#: Celery's own ``Task`` methods, kept while the patch is in place.
_originals: dict[str, Any] = {}


def install_global_intercept(app: Any, *, wrap_task_execution: bool = True) -> None:
    """Route ``.delay()`` / ``.apply_async()`` of ``app``'s tasks through airlock.

    Installing again for the same app only updates ``wrap_task_execution``:
    calls are never intercepted twice. Call it where the app is created, before
    a worker starts, so worker-side task execution is scoped too.
    """
    from celery import Celery

    if not isinstance(app, Celery):
        raise airlock.UsageError(
            f"install_global_intercept() takes the Celery app, e.g."
            f" install_global_intercept(app); got {app!r}."
        )
    if not isinstance(wrap_task_execution, bool):
        raise airlock.UsageError(
            f"wrap_task_execution must be True or False, got {wrap_task_execution!r}."
        )
    _apps[app] = wrap_task_execution
    if not _originals:
        for name, replacement in _PATCHES.items():
            _originals[name] = Task.__dict__[name]
            setattr(Task, name, replacement)
        worker_init.connect(_stay_outermost, weak=False)


def uninstall_global_intercept(app: Any = None) -> None:
    """Stop intercepting ``app``'s tasks (every app when ``app`` is None).

    Celery's ``Task`` is restored once no app is left. Safe to call when
    nothing is installed, and to call twice.
    """
    if app is None:
        _apps.clear()
    else:
        _apps.pop(app, None)
    if not _apps and _originals:
        for name, original in _originals.items():
            setattr(Task, name, original)
        _originals.clear()
        worker_init.disconnect(_stay_outermost)


def is_intercepted(app: Any) -> bool:
    """Whether ``install_global_intercept`` is in force for ``app``."""
    return app in _apps


def _stay_outermost(**_: Any) -> None:
    """Put the task-execution scope back on top once the worker has set up.

    Before ``worker_init`` the worker wraps ``Task.__call__`` in its stack
    protection, which calls ``task.run`` directly and would skip the scope.
    """
    current = Task.__dict__["__call__"]
    if _originals and current is not _call:
        _originals["__call__"] = current
        Task.__call__ = _call


def _route(task: Any, method: str, args: Any, kwargs: Any, options: dict[str, Any]) -> Any:
    if is_publishing() or task._get_app() not in _apps:
        return _originals["apply_async"](task, args, kwargs, **options)
    if airlock.get_current_scope() is None:
        warnings.warn(
            f"{task.name}.{method}() outside an airlock scope publishes at once (global"
            f" intercept); call airlock.enqueue() inside a scope instead.",
            DeprecationWarning,
            stacklevel=3,
        )
        return _originals["apply_async"](task, args, kwargs, **options)
    warnings.warn(
        f"{task.name}.{method}() is buffered by airlock's global intercept; call"
        f" airlock.enqueue() instead.",
        DeprecationWarning,
        stacklevel=3,
    )
    return buffer_call(task, args, kwargs, options)


def _delay(self: Any, *args: Any, **kwargs: Any) -> Any:
    if type(self).apply_async is not _apply_async:  # a subclass of the task overrides it
        return self.apply_async(args, kwargs)
    return _route(self, "delay", args, kwargs, {})


def _apply_async(self: Any, args: Any = None, kwargs: Any = None, **options: Any) -> Any:
    return _route(self, "apply_async", args, kwargs, options)


def _call(self: Any, *args: Any, **kwargs: Any) -> Any:
    if _apps.get(self._get_app()):
        with running(self), airlock.scope():
            return _originals["__call__"](self, *args, **kwargs)
    return _originals["__call__"](self, *args, **kwargs)


def _retry(self: Any, *args: Any, **kwargs: Any) -> Any:
    with publishing():
        return _originals["retry"](self, *args, **kwargs)


def _replace(self: Any, *args: Any, **kwargs: Any) -> Any:
    with publishing():
        return _originals["replace"](self, *args, **kwargs)


for _patch, _name in ((_delay, "delay"), (_apply_async, "apply_async"), (_call, "__call__")):
    _patch.__name__ = _patch.__qualname__ = _name

_PATCHES: dict[str, Any] = {
    "delay": _delay,
    "apply_async": _apply_async,
    "__call__": _call,
    "retry": _retry,
    "replace": _replace,
}

__all__ = ["install_global_intercept", "is_intercepted", "uninstall_global_intercept"]
