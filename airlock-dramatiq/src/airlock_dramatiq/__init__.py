"""airlock for Dramatiq: the ``dramatiq`` executor and a worker middleware.

    import airlock
    with airlock.scope(executor="dramatiq"):
        airlock.enqueue(send_email, 123, _dispatch_options={"delay": 60_000})

Workers: ``broker.add_middleware(airlock_dramatiq.AirlockMiddleware())``.
"""

from __future__ import annotations

from airlock_dramatiq.executor import DramatiqExecutor, dramatiq_executor
from airlock_dramatiq.middleware import AirlockMiddleware

__version__ = "0.1.0"

__all__ = ["AirlockMiddleware", "DramatiqExecutor", "dramatiq_executor"]
