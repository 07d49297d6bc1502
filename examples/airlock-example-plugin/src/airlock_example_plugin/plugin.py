"""The plugin module: what the ``example`` entry point of group ``airlock`` names.

airlock calls the functions marked ``@airlock.hookimpl`` here. Registry hooks
run once, at the first name lookup; lifecycle hooks run on every event, and
may accept any subset of the keyword arguments the hook specification lists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import airlock
from airlock import Intent
from airlock_example_plugin.counting import record
from airlock_example_plugin.outbox import OutboxExecutor
from airlock_example_plugin.unit_of_work import UnitOfWorkScope

# --8<-- [start:register]
#: The executor behind the name ``"example"``: ``airlock.scope(executor="example")``.
executor = OutboxExecutor()


@airlock.hookimpl
def airlock_register_executors() -> Mapping[str, Callable[..., Any]]:
    """Offer the outbox under the name ``example``."""
    return {"example": executor}


# --8<-- [end:register]


@airlock.hookimpl
def airlock_register_scopes() -> Mapping[str, type[airlock.Scope]]:
    """Offer the unit-of-work scope under the name ``unit_of_work``."""
    return {"unit_of_work": UnitOfWorkScope}


@airlock.hookimpl
def airlock_intent_dispatched(intent: Intent) -> None:
    """Count each dispatched intent (the hook also passes ``executor``; unused here)."""
    record(intent.name)
