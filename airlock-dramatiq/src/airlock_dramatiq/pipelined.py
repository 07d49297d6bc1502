"""A view of a ``RedisBroker`` whose enqueues go into a Redis pipeline.

Dramatiq offers no batch enqueue. Rather than rewrite the broker's Redis
commands, airlock runs the broker's own ``enqueue`` (message ids, delay
queues, middleware hooks, its Lua ``dispatch`` script) against a shallow copy
of the broker whose ``dispatch`` script is bound to a pipeline. The caller
executes the pipeline: one round trip for the whole flush.
"""

from __future__ import annotations

import copy
from typing import Any

from dramatiq import Broker

try:
    from dramatiq.brokers.redis import RedisBroker
except ImportError:  # the redis client is not installed: no Redis broker to pipeline
    RedisBroker = None  # type: ignore[assignment, misc]


def is_redis_broker(broker: Broker) -> bool:
    """Whether ``broker`` is a Dramatiq ``RedisBroker`` (its enqueues can be pipelined)."""
    return RedisBroker is not None and isinstance(broker, RedisBroker)


def pipelined_broker(broker: Any, pipeline: Any) -> Any:
    """A copy of ``broker`` whose ``enqueue`` queues its Redis command on ``pipeline``."""
    view = copy.copy(broker)
    view.client = pipeline
    view.scripts = {
        **broker.scripts,
        "dispatch": pipeline.register_script(broker.scripts["dispatch"].script),
    }
    return view
