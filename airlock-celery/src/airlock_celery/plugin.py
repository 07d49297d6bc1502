"""The ``celery`` plugin of the ``airlock`` entry-point group.

Importing it does not import Celery: the executor loads Celery on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from airlock import hookimpl
from airlock_celery.executor import celery_executor


@hookimpl
def airlock_register_executors() -> Mapping[str, Callable[..., Any]]:
    """Register the ``celery`` executor."""
    return {"celery": celery_executor}
