"""Executors and policies from what a user wrote: the object, a registered name or a path.

Wherever airlock accepts an executor or a policy (``scope()``,
``configure()``, Django's ``AIRLOCK`` setting, ``AIRLOCK_EXECUTOR``), the
value goes through here, so every place accepts the same forms and fails with
the same clear errors, naming where the value came from.
"""

from __future__ import annotations

from airlock import registry
from airlock.errors import PluginConflictError, UnknownPluginError, UsageError
from airlock.importing import import_object
from airlock.policies import check_policy

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from airlock.protocols import Policy
    from airlock.registry import Kind


def named(kind: Kind, value: str, source: str) -> Any:
    """Resolve a registered name or a dotted path; errors say where the value came from."""
    try:
        if "." in value or ":" in value:
            return import_object(value, what=kind)
        return registry.lookup(kind, value)
    except (UnknownPluginError, PluginConflictError) as exc:
        if source == kind:
            raise
        raise type(exc)(f"{source}: {exc}") from exc.__cause__


def resolve_executor(value: object, *, source: str = "executor") -> Callable[..., Any]:
    """An executor from itself, a registered name or a dotted path."""
    if not isinstance(value, (str, type)) and callable(value):
        return value
    obj = named("executor", value, source) if isinstance(value, str) else value
    if isinstance(obj, type):
        raise UsageError(
            f"{source} is the class {obj.__qualname__}, not an executor: pass an instance,"
            f" e.g. {obj.__qualname__}()."
        )
    if not callable(obj):
        raise UsageError(
            f"{source} must be an executor (a callable taking an Intent), a registered"
            f" name such as 'sync', or a dotted path; got {value!r}."
        )
    return obj  # type: ignore[no-any-return]


class SharedPolicy:
    """A policy factory that hands out the one instance it was given, every time."""

    __slots__ = ("instance",)

    def __init__(self, instance: Policy) -> None:
        self.instance = instance

    def __call__(self) -> Policy:
        """The shared instance."""
        return self.instance


def policy_factory(value: object, *, source: str = "policy") -> Callable[[], Policy]:
    """Something that makes the policy: a given instance is reused, a class is called.

    ``value`` may be a policy instance, a policy class or zero-argument factory,
    a registered name such as ``"drop_all"``, or a dotted path to any of these.
    """
    obj = named("policy", value, source) if isinstance(value, str) else value
    if isinstance(value, str):
        source = f"{source} {value!r}"
    if not isinstance(obj, type) and hasattr(obj, "allows") and hasattr(obj, "on_enqueue"):
        return SharedPolicy(check_policy(obj, source))
    if not callable(obj):
        check_policy(obj, source)  # raises with the explanation

    def make() -> Policy:
        try:
            made = obj()  # type: ignore[operator]
        except TypeError as exc:
            raise UsageError(
                f"{source} {value!r} cannot be built without arguments ({exc}); pass an"
                f" instance instead, e.g. BlockTasks({{'send_email'}})."
            ) from exc
        return check_policy(made, source)

    return make


def resolve_policy(value: object, *, source: str = "policy") -> Policy:
    """A policy instance from an instance, class, registered name or dotted path."""
    if not isinstance(value, (str, type)) and hasattr(value, "allows"):
        return check_policy(value, source)
    return policy_factory(value, source=source)()


__all__ = ["SharedPolicy", "named", "policy_factory", "resolve_executor", "resolve_policy"]
