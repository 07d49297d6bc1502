"""The hook callers the engine calls on its own paths, each ``None`` while no plugin implements it.

The lifecycle hooks, and ``task_reference`` (naming a task no other way
tells). The engine tests ``lifecycle.enqueued is not None`` and skips the
call otherwise, so a hook nobody implements costs one attribute read. Only
the plugin manager (``airlock.manager``) sets these, whenever the set of
registered plugins changes.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


class Lifecycle:
    """One slot per lifecycle hook: its pluggy caller, or ``None``."""

    __slots__ = (
        "discarded",
        "dispatch_finished",
        "dispatch_started",
        "dispatched",
        "dropped",
        "enqueued",
        "failed",
        "publish_finished",
        "publish_started",
        "task_finished",
        "task_reference",
        "task_started",
        "watching_dispatch",
    )

    #: Slot -> hook name, as in ``airlock.hookspecs``.
    HOOKS = {
        "enqueued": "airlock_intent_enqueued",
        "dispatched": "airlock_intent_dispatched",
        "dropped": "airlock_intent_dropped",
        "failed": "airlock_dispatch_failed",
        "discarded": "airlock_scope_discarded",
        "dispatch_started": "airlock_dispatch_started",
        "dispatch_finished": "airlock_dispatch_finished",
        "publish_started": "airlock_publish_started",
        "publish_finished": "airlock_publish_finished",
        "task_started": "airlock_task_started",
        "task_finished": "airlock_task_finished",
        "task_reference": "airlock_task_reference",
    }

    def __init__(self) -> None:
        self.enqueued: Callable[..., Any] | None = None
        self.dispatched: Callable[..., Any] | None = None
        self.dropped: Callable[..., Any] | None = None
        self.failed: Callable[..., Any] | None = None
        self.discarded: Callable[..., Any] | None = None
        self.dispatch_started: Callable[..., Any] | None = None
        self.dispatch_finished: Callable[..., Any] | None = None
        self.publish_started: Callable[..., Any] | None = None
        self.publish_finished: Callable[..., Any] | None = None
        self.task_started: Callable[..., Any] | None = None
        self.task_finished: Callable[..., Any] | None = None
        self.task_reference: Callable[..., Any] | None = None
        #: Some hook wants to hear about each dispatch: a scope's end must not
        #: run its buffer in-process on its own (it goes through ``dispatch()``).
        self.watching_dispatch = False


lifecycle = Lifecycle()
