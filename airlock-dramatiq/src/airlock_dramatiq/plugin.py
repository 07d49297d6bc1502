"""The ``dramatiq`` plugin: the ``dramatiq`` executor, and what airlock asks about actors.

It registers the executor, claims Dramatiq's actors as a task kind (so that,
with no executor configured, actors go to ``dramatiq`` and plain callables run
in-process), finds actors by name on the global broker, and gives an actor's
signature for the argument check at ``enqueue()``.

Importing it does not import Dramatiq: the executor is a lazy reference, and
the task hooks answer only once the application itself has imported Dramatiq
(before that, no actor exists to find or check).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any

import airlock

#: The task classes the ``dramatiq`` executor owns, by import path: actors made
#: by ``@dramatiq.actor``, and the instances ``dramatiq.GenericActor`` subclasses become.
TASK_KINDS = {
    "dramatiq.actor.Actor": "dramatiq",
    "dramatiq.generic.GenericActor": "dramatiq",
}


@airlock.hookimpl
def airlock_register_executors() -> Mapping[str, str]:
    """``executor="dramatiq"`` selects :data:`airlock_dramatiq.dramatiq_executor`."""
    return {"dramatiq": "airlock_dramatiq.executor:dramatiq_executor"}


@airlock.hookimpl
def airlock_register_task_kinds() -> Mapping[str, str]:
    """Actors, function- or class-based, go to the ``dramatiq`` executor by default."""
    return TASK_KINDS


@airlock.hookimpl
def airlock_resolve_task(name: str) -> object | None:
    """The actor declared as ``name`` on Dramatiq's global broker, or ``None``.

    Only declared actors are found: nothing is imported by name.
    """
    if "dramatiq" not in sys.modules:
        return None
    from airlock_dramatiq.actors import declared_actor

    return declared_actor(name)


@airlock.hookimpl
def airlock_task_signature(task: object) -> Callable[..., Any] | None:
    """An actor's arguments are checked against its function; ``None`` for other tasks."""
    if "dramatiq" not in sys.modules:
        return None
    from airlock_dramatiq.actors import actor_function

    return actor_function(task)
