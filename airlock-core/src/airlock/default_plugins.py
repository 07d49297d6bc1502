"""airlock-core's own plugin, registered through the same hooks as any other.

It is the ``core`` entry point of the ``airlock`` group; when entry points are
off, ``airlock.manager`` registers it by its import path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from airlock.dispatching import sync_executor
from airlock.hookspecs import hookimpl
from airlock.policies import AllowAll, AssertNoEffects, Dedupe, DropAll, LogOnFlush
from airlock.protocols import Policy
from airlock.routing import router
from airlock.scopes import Scope


@hookimpl
def airlock_register_executors() -> Mapping[str, Callable[..., Any]]:
    """Core's executors: ``sync`` runs intents in-process; ``auto`` routes by task kind."""
    return {"sync": sync_executor, "auto": router}


@hookimpl
def airlock_register_policies() -> Mapping[str, Callable[..., Policy]]:
    """Core's policies, by the names used in configuration."""
    return {
        "allow_all": AllowAll,
        "drop_all": DropAll,
        "assert_no_effects": AssertNoEffects,
        "log_on_flush": LogOnFlush,
        "dedupe": Dedupe,
    }


@hookimpl
def airlock_register_scopes() -> Mapping[str, type[Scope]]:
    """Core's scope: ``default`` flushes at the end of the block."""
    return {"default": Scope}
