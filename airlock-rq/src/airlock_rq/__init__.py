"""airlock for RQ: the ``rq`` executor and worker-side scoping of jobs.

    import airlock, airlock_rq
    airlock_rq.configure(connection=Redis.from_url("redis://127.0.0.1:6379/0"))
    with airlock.scope(executor="rq"):
        airlock.enqueue(send_email, 123, _dispatch_options={"queue": "emails"})

Workers: ``rq worker --job-class airlock_rq.AirlockJob``.
"""

from __future__ import annotations

from airlock.plugins import lazy_exports

TYPE_CHECKING = False
if TYPE_CHECKING:
    from airlock_rq.config import configure, default_queue, get_connection, reset_configuration
    from airlock_rq.executor import RQExecutor, rq_executor
    from airlock_rq.job import AirlockJob
else:  # importing the package (and its plugin) does not import RQ or redis
    __getattr__ = lazy_exports(
        __name__,
        {
            "configure": "airlock_rq.config",
            "default_queue": "airlock_rq.config",
            "get_connection": "airlock_rq.config",
            "reset_configuration": "airlock_rq.config",
            "RQExecutor": "airlock_rq.executor",
            "rq_executor": "airlock_rq.executor",
            "AirlockJob": "airlock_rq.job",
        },
    )

__version__ = "0.1.0"

__all__ = [
    "AirlockJob",
    "RQExecutor",
    "configure",
    "default_queue",
    "get_connection",
    "reset_configuration",
    "rq_executor",
]
