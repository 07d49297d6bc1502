"""Process-wide defaults for new scopes; explicit arguments to ``scope()`` always win."""

from __future__ import annotations

from collections.abc import Mapping

from airlock import defaults, manager
from airlock.defaults import EXECUTOR_ENV
from airlock.errors import UsageError
from airlock.scopes import resolve_scope_class

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: What ``configure()`` was given, merged over earlier calls.
_configured: dict[str, Any] = {}


def configure(
    *,
    executor: object = None,
    policy: object = None,
    scope_cls: object = None,
    scope_kwargs: Mapping[str, Any] | None = None,
) -> None:
    """Set the defaults for every scope opened from now on, anywhere in the process.

    Each of ``executor``, ``policy`` and ``scope_cls`` may be the object
    itself, a registered name (``"celery"``, ``"drop_all"``, ``"django"``) or
    a dotted path. ``None`` leaves a setting as it is. Everything is resolved
    now, so a typo fails here, and a failed call changes nothing.
    A policy given as an instance is shared by all scopes; a class or name
    builds a fresh one for each scope. With no executor configured (and no
    ``AIRLOCK_EXECUTOR``), each intent goes to the executor that owns its kind
    of task, and plain callables run in-process.
    """
    given = {
        "executor": executor,
        "policy": policy,
        "scope_cls": scope_cls,
        "scope_kwargs": scope_kwargs,
    }
    merged = {**_configured, **{k: v for k, v in given.items() if v is not None}}
    manager.load()
    resolved = _resolve(merged)
    _configured.clear()
    _configured.update(merged)
    defaults.install(resolved)


def _resolve(sources: Mapping[str, Any]) -> defaults.Defaults:
    kwargs = sources.get("scope_kwargs") or {}
    if not isinstance(kwargs, Mapping):
        raise UsageError(f"scope_kwargs must be a mapping of keyword arguments, got {kwargs!r}.")
    scope_cls = resolve_scope_class(sources.get("scope_cls") or "default")
    if kwargs:
        import inspect  # only here: importing inspect costs more than all of airlock

        try:
            inspect.signature(scope_cls).bind_partial(**kwargs)
        except TypeError as exc:
            raise UsageError(
                f"scope_kwargs {dict(kwargs)!r} do not fit {scope_cls.__name__}: {exc}."
            ) from None
    return defaults.resolve(sources, scope_cls)


def get_configuration() -> dict[str, Any]:
    """The defaults in force, resolved.

    Keys: ``executor``, ``policy`` (as a new scope would get it), ``scope_cls``
    and ``scope_kwargs``.
    """
    current = defaults.current()
    return {
        "executor": current.executor,
        "policy": current.make_policy(),
        "scope_cls": current.scope_cls,
        "scope_kwargs": dict(current.scope_kwargs),
    }


def reset_configuration() -> None:
    """Forget everything ``configure()`` set; ``AIRLOCK_EXECUTOR`` is read again."""
    _configured.clear()
    defaults.install(None)


__all__ = ["EXECUTOR_ENV", "configure", "get_configuration", "reset_configuration"]
