"""The ``rq`` plugin: registers the executor under the name ``rq``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import airlock
from airlock_rq.executor import rq_executor


@airlock.hookimpl
def airlock_register_executors() -> Mapping[str, Callable[..., Any]]:
    """``executor="rq"`` selects :data:`airlock_rq.rq_executor`."""
    return {"rq": rq_executor}


@airlock.hookimpl
def airlock_check() -> Iterable[str]:
    """When ``rq`` is the default executor, it must have a Redis connection."""
    from airlock_rq import config

    if airlock.get_configuration()["executor"] is not rq_executor:
        return []
    try:
        config.get_connection()
    except airlock.UsageError as exc:
        return [str(exc)]
    return []
