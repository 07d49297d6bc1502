"""airlock-example-plugin: a third-party airlock plugin, kept small to copy from.

Installing the distribution registers the plugin ``example`` (entry point
group ``airlock``), which offers the executor ``example`` (a JSON-lines
outbox that sends a flush in one write) and the scope ``unit_of_work``
(effects wait for a unit of work to commit).
``airlock.scope(executor="example", _cls="unit_of_work")`` selects them by name.
"""

from __future__ import annotations

from airlock_example_plugin.counting import dispatch_counts, reset_counts
from airlock_example_plugin.outbox import (
    OUTBOX_ENV,
    OutboxExecutor,
    outbox_path,
    read_outbox,
)
from airlock_example_plugin.unit_of_work import UnitOfWork, UnitOfWorkScope, unit_of_work

__version__ = "0.1.0"

__all__ = [
    "OUTBOX_ENV",
    "OutboxExecutor",
    "UnitOfWork",
    "UnitOfWorkScope",
    "dispatch_counts",
    "outbox_path",
    "read_outbox",
    "reset_counts",
    "unit_of_work",
]
