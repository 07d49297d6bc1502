"""airlock: express side effects anywhere; let the surrounding scope decide when they escape.

    import airlock

    with airlock.scope():
        airlock.enqueue(send_email, user_id=123)   # buffered
    # dispatched here, when the block ends without an error

Scopes decide *when* effects escape, policies decide *which*, executors decide
*how*. Importing airlock loads no plugins; the first scope or name lookup does.
Plugin authors find their API in ``airlock.plugins``.
"""

from __future__ import annotations

from airlock import plugins
from airlock.arguments import skip_argument_check
from airlock.buffer import enqueue
from airlock.config import configure, get_configuration, reset_configuration
from airlock.dispatching import DispatchLedger, sync_executor
from airlock.errors import (
    AirlockError,
    DispatchError,
    NoScopeError,
    PluginConflictError,
    PolicyEnqueueError,
    PolicyViolation,
    ScopeStateError,
    TaskArgumentError,
    UnknownPluginError,
    UsageError,
)
from airlock.intents import Intent
from airlock.policies import (
    AllowAll,
    AssertNoEffects,
    BlockTasks,
    Dedupe,
    DropAll,
    LogOnFlush,
    policy,
)
from airlock.scopes import AbandonedGeneratorWarning, Scope, get_current_scope, scope, scoped

__version__ = "0.1.0"

TYPE_CHECKING = False
if TYPE_CHECKING:
    from airlock.hookspecs import hookimpl, hookspec
    from airlock.protocols import BatchExecutor, Executor, Policy
else:

    def __getattr__(name):
        # Loaded on first use, so `import airlock` pays for neither typing nor pluggy.
        if name in ("BatchExecutor", "Executor", "Policy"):
            from airlock import protocols

            return getattr(protocols, name)
        if name in ("hookimpl", "hookspec"):
            from airlock import hookspecs

            return getattr(hookspecs, name)
        raise AttributeError(f"module 'airlock' has no attribute {name!r}")


__all__ = [
    "AbandonedGeneratorWarning",
    "AirlockError",
    "AllowAll",
    "AssertNoEffects",
    "BatchExecutor",
    "BlockTasks",
    "Dedupe",
    "DispatchError",
    "DispatchLedger",
    "DropAll",
    "Executor",
    "Intent",
    "LogOnFlush",
    "NoScopeError",
    "PluginConflictError",
    "Policy",
    "PolicyEnqueueError",
    "PolicyViolation",
    "Scope",
    "ScopeStateError",
    "TaskArgumentError",
    "UnknownPluginError",
    "UsageError",
    "configure",
    "enqueue",
    "get_configuration",
    "get_current_scope",
    "hookimpl",
    "hookspec",
    "plugins",
    "policy",
    "reset_configuration",
    "scope",
    "scoped",
    "skip_argument_check",
    "sync_executor",
]
