"""A view of a Huey instance whose enqueues go into one Redis pipeline.

Huey has no batch enqueue. Rather than write Huey's Redis commands itself,
airlock runs Huey's own ``Huey.enqueue`` (expiry, the ``enqueued`` signal,
serialization, the storage's own ``enqueue``: ``LPUSH``, or ``ZADD`` for a
priority queue) on a shallow copy of the Huey instance whose storage's Redis
client is a transaction pipeline. The caller executes the pipeline: one round
trip for a whole run of tasks.
"""

from __future__ import annotations

import copy
from typing import Any

from huey import Huey

try:
    from huey.storage import RedisStorage
except ImportError:  # pragma: no cover - Huey always ships it; redis-py may be missing
    RedisStorage = None


def can_pipeline(huey: Huey) -> bool:
    """Whether ``huey`` stores tasks in Redis (and does not run them in-process)."""
    return (
        RedisStorage is not None and isinstance(huey.storage, RedisStorage) and not huey.immediate
    )


def pipelined_huey(huey: Huey, pipeline: Any) -> Huey:
    """A copy of ``huey`` whose ``enqueue`` queues its Redis command on ``pipeline``."""
    storage = copy.copy(huey.storage)
    storage.conn = pipeline
    view = copy.copy(huey)
    view.storage = storage
    return view
