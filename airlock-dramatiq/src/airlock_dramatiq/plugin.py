"""The ``dramatiq`` plugin: registers the executor under the name ``dramatiq``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import airlock
from airlock_dramatiq.executor import dramatiq_executor


@airlock.hookimpl
def airlock_register_executors() -> Mapping[str, Callable[..., Any]]:
    """``executor="dramatiq"`` selects :data:`airlock_dramatiq.dramatiq_executor`."""
    return {"dramatiq": dramatiq_executor}
