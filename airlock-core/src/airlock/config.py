"""Process-wide defaults for new scopes; explicit arguments to ``scope()`` always win."""

from __future__ import annotations

import os
from collections.abc import Mapping

from airlock import plugins
from airlock.errors import UsageError
from airlock.executors import sync_executor
from airlock.policies import SILENT_ON_ENQUEUE, AllowAll

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from airlock.protocols import Policy
    from airlock.scopes import Scope

EXECUTOR_ENV = "AIRLOCK_EXECUTOR"

#: The default policy. Stateless, so every scope can share it.
_ALLOW_ALL = AllowAll()


class Plan:
    """How a scope runs, given its policy, executor and error mode; computed once.

    Every scope opened with the defaults shares one plan (when the policy is
    a shared instance, as the default ``AllowAll`` is), so opening a scope
    stores one reference instead of deriving these flags again.
    """

    __slots__ = ("direct", "executor", "filters", "keep_going", "layered", "policy", "screens")

    def __init__(
        self,
        policy: Policy,
        executor: Callable[..., Any],
        keep_going: bool,
        *,
        plain_scope: bool = True,
    ) -> None:
        self.policy = policy
        self.executor = executor
        self.keep_going = keep_going
        #: The policy's ``on_enqueue`` does something: enqueue must build an Intent.
        self.screens = type(policy) not in SILENT_ON_ENQUEUE
        #: The policy's ``allows`` may say no: flush must ask it.
        self.filters = type(policy) is not AllowAll
        #: Flush may run the buffer straight through the sync executor, and the
        #: end of a ``with`` block may run the scope's steps inline: the scope's
        #: class keeps ``Scope``'s own (``plain_scope``, see ``Scope._plain``).
        self.direct = (
            plain_scope and executor is sync_executor and not self.filters and not keep_going
        )
        #: Some intents carry policies layered with ``airlock.policy()``: flush judges.
        self.layered = False

    def with_layers(self) -> Plan:
        """A copy of the plan for a scope whose intents carry layered policies."""
        plan = Plan(self.policy, self.executor, self.keep_going)
        plan.direct = False
        plan.layered = True
        return plan


class Defaults:
    """The resolved defaults: what a scope uses for whatever it is not given."""

    __slots__ = (
        "executor",
        "make_policy",
        "plain_plan",
        "plan",
        "scope_cls",
        "scope_kwargs",
        "sources",
    )

    def __init__(
        self,
        executor: Callable[..., Any],
        make_policy: Callable[[], Policy],
        scope_cls: type[Scope],
        scope_kwargs: Mapping[str, Any],
        sources: Mapping[str, Any],
    ) -> None:
        self.executor = executor
        self.make_policy = make_policy
        #: The plan of a scope given neither policy nor executor, when the
        #: policy is one shared instance; else None (each scope builds one).
        self.plan = (
            Plan(make_policy.instance, executor, keep_going=False, plain_scope=scope_cls._plain)
            if isinstance(make_policy, plugins.SharedPolicy)
            else None
        )
        from airlock.scopes import Scope

        #: ``plan``, when a bare ``airlock.scope()`` makes a plain ``Scope``
        #: whose policy never screens at enqueue (its buffer takes entries).
        self.plain_plan = (
            self.plan
            if self.plan is not None
            and not self.plan.screens
            and scope_cls is Scope
            and not scope_kwargs
            else None
        )
        self.scope_cls = scope_cls
        self.scope_kwargs = dict(scope_kwargs)
        self.sources = dict(sources)


_configured: dict[str, Any] = {}
_defaults: Defaults | None = None
#: ``_defaults.plain_plan``, kept at hand for ``airlock.scope()`` (None until resolved).
plain_plan: Plan | None = None


def current() -> Defaults:
    """The defaults in force, resolved (and plugins loaded) on first use."""
    if _defaults is None:
        plugins.load()
        _install(_resolve(_configured))
    assert _defaults is not None
    return _defaults


def _install(defaults: Defaults | None) -> None:
    global _defaults, plain_plan
    _defaults = defaults
    plain_plan = None if defaults is None else defaults.plain_plan


def _resolve(sources: Mapping[str, Any]) -> Defaults:
    executor = sources.get("executor")
    executor_source = "executor passed to airlock.configure()"
    if executor is None and os.environ.get(EXECUTOR_ENV):
        executor = os.environ[EXECUTOR_ENV]
        executor_source = f"{EXECUTOR_ENV} environment variable"
    elif executor is None:
        executor_source = "default executor 'sync'"
    kwargs = sources.get("scope_kwargs") or {}
    if not isinstance(kwargs, Mapping):
        raise UsageError(f"scope_kwargs must be a mapping of keyword arguments, got {kwargs!r}.")
    make_policy = plugins.policy_factory(sources.get("policy") or _ALLOW_ALL)
    make_policy()  # a factory that cannot build a policy fails here, not at every scope
    scope_cls = plugins.resolve_scope_class(sources.get("scope_cls") or "default")
    if kwargs:
        import inspect

        try:
            inspect.signature(scope_cls).bind_partial(**kwargs)
        except TypeError as exc:
            raise UsageError(
                f"scope_kwargs {dict(kwargs)!r} do not fit {scope_cls.__name__}: {exc}."
            ) from None
    return Defaults(
        executor=plugins.resolve_executor(executor or "sync", source=executor_source),
        make_policy=make_policy,
        scope_cls=scope_cls,
        scope_kwargs=kwargs,
        sources={**sources, "executor": executor or "sync"},
    )


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
    builds a fresh one for each scope.
    """
    given = {
        "executor": executor,
        "policy": policy,
        "scope_cls": scope_cls,
        "scope_kwargs": scope_kwargs,
    }
    merged = {**_configured, **{k: v for k, v in given.items() if v is not None}}
    plugins.load()
    resolved = _resolve(merged)
    _configured.clear()
    _configured.update(merged)
    _install(resolved)


def get_configuration() -> dict[str, Any]:
    """The defaults in force, resolved.

    Keys: ``executor``, ``policy`` (as a new scope would get it), ``scope_cls``
    and ``scope_kwargs``.
    """
    defaults = current()
    return {
        "executor": defaults.executor,
        "policy": defaults.make_policy(),
        "scope_cls": defaults.scope_cls,
        "scope_kwargs": dict(defaults.scope_kwargs),
    }


def reset_configuration() -> None:
    """Forget everything ``configure()`` set; ``AIRLOCK_EXECUTOR`` is read again."""
    _configured.clear()
    _install(None)
