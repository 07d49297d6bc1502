"""airlock-example-plugin: a third-party airlock plugin, kept small to copy from.

Installing the distribution registers the plugin ``example`` (entry point
group ``airlock``), which offers the executor ``example``: a JSON-lines
outbox. ``airlock.scope(executor="example")`` selects it by name.
"""

from __future__ import annotations

from airlock_example_plugin.counting import dispatch_counts, reset_counts
from airlock_example_plugin.outbox import (
    OUTBOX_ENV,
    OutboxExecutor,
    outbox_path,
    read_outbox,
)

__version__ = "0.1.0"

__all__ = [
    "OUTBOX_ENV",
    "OutboxExecutor",
    "dispatch_counts",
    "outbox_path",
    "read_outbox",
    "reset_counts",
]
