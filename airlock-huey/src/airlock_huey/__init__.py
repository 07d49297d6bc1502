"""airlock for Huey: the ``huey`` executor and worker-side scoping of task runs.

    import airlock
    with airlock.scope():  # a Huey task goes to the ``huey`` executor by itself
        airlock.enqueue(send_email, 123, _dispatch_options={"delay": 60})

Consumers: ``airlock_huey.scope_tasks(huey)`` where the Huey instance is defined.
"""

from __future__ import annotations

from airlock.plugins import lazy_exports

TYPE_CHECKING = False
if TYPE_CHECKING:
    from airlock_huey.executor import HueyExecutor, huey_executor
    from airlock_huey.tasks import find_task
    from airlock_huey.worker import scope_tasks, unscope_tasks
else:  # importing the package (and its plugin) does not import Huey
    __getattr__ = lazy_exports(
        __name__,
        {
            "HueyExecutor": "airlock_huey.executor",
            "huey_executor": "airlock_huey.executor",
            "find_task": "airlock_huey.tasks",
            "scope_tasks": "airlock_huey.worker",
            "unscope_tasks": "airlock_huey.worker",
        },
    )

__version__ = "0.1.0"

__all__ = ["HueyExecutor", "find_task", "huey_executor", "scope_tasks", "unscope_tasks"]
