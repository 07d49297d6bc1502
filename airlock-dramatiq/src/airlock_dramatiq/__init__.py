"""airlock for Dramatiq: the ``dramatiq`` executor and a worker middleware.

    import airlock
    with airlock.scope(executor="dramatiq"):
        airlock.enqueue(send_email, 123, _dispatch_options={"delay": 60_000})

Workers: ``broker.add_middleware(airlock_dramatiq.AirlockMiddleware())``.
"""

from __future__ import annotations

from airlock.plugins import lazy_exports

TYPE_CHECKING = False
if TYPE_CHECKING:
    from airlock_dramatiq.executor import DramatiqExecutor, dramatiq_executor
    from airlock_dramatiq.middleware import AirlockMiddleware
else:  # importing the package (and its plugin) does not import Dramatiq
    __getattr__ = lazy_exports(
        __name__,
        {
            "DramatiqExecutor": "airlock_dramatiq.executor",
            "dramatiq_executor": "airlock_dramatiq.executor",
            "AirlockMiddleware": "airlock_dramatiq.middleware",
        },
    )

__version__ = "0.1.0"

__all__ = ["AirlockMiddleware", "DramatiqExecutor", "dramatiq_executor"]
