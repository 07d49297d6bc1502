"""The defaults a new scope takes for whatever it is not given, resolved once.

``airlock.configure()`` (in ``airlock.config``) decides them; this module
keeps them and works them out on first use: the executor comes from
``configure()``, else ``AIRLOCK_EXECUTOR``, else the task router (each intent
to the executor that owns its kind of task); the policy from ``configure()``,
else ``AllowAll``; the scope class from ``configure()``, else the registered
``default``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from airlock import manager, registry
from airlock.dispatching import sync_executor
from airlock.policies import SILENT_ON_ENQUEUE, AllowAll
from airlock.resolution import SharedPolicy, policy_factory, resolve_executor
from airlock.routing import router

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from airlock.protocols import Policy

EXECUTOR_ENV = "AIRLOCK_EXECUTOR"

#: The default policy. Stateless, so every scope can share it.
ALLOW_ALL = AllowAll()


def runs_plain_callables_in_process(executor: object) -> bool:
    """Whether ``executor`` runs a plain callable in-process (``sync``, or the router)."""
    return executor is sync_executor or executor is router


class Plan:
    """How a scope runs, given its policy, executor and error mode; worked out once.

    Every scope opened with the defaults shares one plan, so opening a scope
    stores one reference instead of deriving these flags again.
    """

    __slots__ = ("executor", "filters", "inline", "keep_going", "layered", "policy", "screens")

    def __init__(
        self,
        policy: Policy,
        executor: Callable[..., Any],
        keep_going: bool = False,
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
        #: The end of a block may run the buffer in-process itself: the scope's
        #: class keeps ``Scope``'s own steps, and nothing asks to judge or to go on.
        self.inline = (
            plain_scope
            and runs_plain_callables_in_process(executor)
            and not self.filters
            and not keep_going
        )
        #: Some intents carry policies layered with ``airlock.policy()``: flush judges.
        self.layered = False

    def with_layers(self) -> Plan:
        """A copy of the plan for a scope whose intents carry layered policies."""
        plan = Plan(self.policy, self.executor, self.keep_going)
        plan.inline = False
        plan.layered = True
        return plan


class Defaults:
    """The resolved defaults, and where each came from (``sources``)."""

    __slots__ = ("executor", "make_policy", "plan", "scope_cls", "scope_kwargs", "sources")

    def __init__(
        self,
        executor: Callable[..., Any],
        make_policy: Callable[[], Policy],
        scope_cls: type[Any],
        scope_kwargs: Mapping[str, Any],
        sources: Mapping[str, Any],
    ) -> None:
        self.executor = executor
        self.make_policy = make_policy
        #: The plan of a plain scope given neither policy nor executor, when the
        #: policy is one shared instance; else ``None`` (each scope builds one).
        self.plan = (
            Plan(make_policy.instance, executor) if isinstance(make_policy, SharedPolicy) else None
        )
        self.scope_cls = scope_cls
        self.scope_kwargs = dict(scope_kwargs)
        self.sources = dict(sources)


#: The defaults in force, or ``None`` until first used. Read it as
#: ``defaults.installed or defaults.current()``: a scope opens without a call.
installed: Defaults | None = None


def current() -> Defaults:
    """The defaults in force, worked out (and plugins loaded) on first use."""
    found = installed
    if found is None:
        manager.load()
        found = resolve({})
        install(found)
    return found


def install(defaults: Defaults | None) -> None:
    """Make ``defaults`` the ones in force (``None``: work them out again on next use)."""
    global installed
    installed = defaults


def resolve(sources: Mapping[str, Any], scope_cls: type[Any] | None = None) -> Defaults:
    """Defaults from what ``configure()`` was given; a bad value raises, naming its source."""
    executor = sources.get("executor")
    source = "executor passed to airlock.configure()"
    if executor is None and os.environ.get(EXECUTOR_ENV):
        executor = os.environ[EXECUTOR_ENV]
        source = f"{EXECUTOR_ENV} environment variable"
    make_policy = policy_factory(sources.get("policy") or ALLOW_ALL)
    make_policy()  # a factory that cannot build a policy fails here, not at every scope
    return Defaults(
        executor=router if executor is None else resolve_executor(executor, source=source),
        make_policy=make_policy,
        scope_cls=registry.lookup("scope", "default") if scope_cls is None else scope_cls,
        scope_kwargs=sources.get("scope_kwargs") or {},
        sources={**sources, "executor": "auto" if executor is None else executor},
    )


__all__ = ["EXECUTOR_ENV", "Defaults", "Plan", "current", "install", "resolve"]
