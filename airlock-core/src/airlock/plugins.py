"""Everything a plugin author needs, in one place: the public plugin API of airlock-core.

airlock's own integrations (airlock-celery, airlock-django, ...) use this
module and the names exported by ``airlock`` itself, and nothing else: a
third-party plugin can do all they do.

Registering and finding plugins
    ``register``, ``unregister``, ``manager``, ``load``, ``load_failures``,
    ``names``, ``lookup``, ``describe``, ``distribution``, ``reset``,
    ``CheckWarning`` for ``airlock_check`` findings that are warnings,
    ``autoload_disabled`` (the markers are ``airlock.hookimpl`` and ``airlock.hookspec``).
Resolving what a user wrote
    ``resolve_executor``, ``resolve_policy``, ``policy_factory``,
    ``resolve_scope_class``, ``import_object``, ``executor_name``.
Writing executors
    ``DispatchLedger`` (the books of a ``dispatch_many``), ``dispatch``,
    ``sync_executor``, ``message_id_option``, ``unsafe_options``,
    ``permanent_errors``.
Tasks
    ``task_name``, ``task_reference``, ``resolve_task``, ``task_kinds``,
    ``executor_name_for`` (where the task router sends a task),
    ``why_not_importable`` (for workers that import each task by its path).
Workers
    ``running_task(task_name, headers)`` around each task a worker runs;
    ``publishing(intent)`` around each message an executor sends.
Packaging
    ``lazy_exports`` and ``require`` for modules that forward to another
    distribution.

Importing this module loads no plugin and does not import pluggy.
"""

from __future__ import annotations

from airlock import defaults, registry
from airlock.defaults import EXECUTOR_ENV
from airlock.dispatching import (
    DispatchLedger,
    dispatch,
    message_id_option,
    permanent_errors,
    sync_executor,
    unsafe_options,
)
from airlock.errors import CheckWarning
from airlock.importing import import_object, lazy_exports, require, why_not_importable
from airlock.intents import task_name, task_reference
from airlock.inventory import PluginInfo, describe, distribution
from airlock.manager import (
    DISABLE_AUTOLOAD_ENV,
    ENTRY_POINT_GROUP,
    PluginFailure,
    autoload_disabled,
    load,
    manager,
    register,
    reset,
    unregister,
)
from airlock.manager import failures as load_failures
from airlock.registry import lookup, names, resolve_task, task_kinds
from airlock.resolution import policy_factory, resolve_executor, resolve_policy
from airlock.routing import router
from airlock.scopes import resolve_scope_class
from airlock.worker import publishing, running_task

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def executor_name(executor: Callable[..., Any]) -> str | None:
    """The name ``executor`` goes by: as configured (a name or dotted path), or as registered.

    ``None`` for an executor that has neither.
    """
    configured = defaults.current()
    source = configured.sources.get("executor")
    if executor is configured.executor and isinstance(source, str):
        return source
    for name in registry.names("executor"):
        if registry.lookup("executor", name) is executor:
            return name
    return None


def executor_name_for(task: object) -> str:
    """The registered name of the executor the task router sends ``task`` to (``"sync"``: here)."""
    return router.executor_name(task)


__all__ = [
    "DISABLE_AUTOLOAD_ENV",
    "ENTRY_POINT_GROUP",
    "EXECUTOR_ENV",
    "CheckWarning",
    "DispatchLedger",
    "PluginFailure",
    "PluginInfo",
    "autoload_disabled",
    "describe",
    "dispatch",
    "distribution",
    "executor_name",
    "executor_name_for",
    "import_object",
    "lazy_exports",
    "load",
    "load_failures",
    "lookup",
    "manager",
    "message_id_option",
    "names",
    "permanent_errors",
    "policy_factory",
    "publishing",
    "register",
    "require",
    "reset",
    "resolve_executor",
    "resolve_policy",
    "resolve_scope_class",
    "resolve_task",
    "running_task",
    "sync_executor",
    "task_kinds",
    "task_name",
    "task_reference",
    "unregister",
    "unsafe_options",
    "why_not_importable",
]
