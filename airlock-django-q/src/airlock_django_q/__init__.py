"""airlock for django-q2: the ``django_q`` executor and worker-side scoping of tasks.

    import airlock
    with airlock.scope(executor="django_q"):
        airlock.enqueue(send_email, 123, _dispatch_options={"group": "emails"})

Clusters: call ``airlock_django_q.scope_tasks()`` in an ``AppConfig.ready()``.
"""

from __future__ import annotations

from airlock.plugins import lazy_exports

TYPE_CHECKING = False
if TYPE_CHECKING:
    from airlock_django_q.executor import DjangoQExecutor, django_q_executor
    from airlock_django_q.worker import scope_tasks, unscope_tasks
else:  # importing the package (and its plugin) imports neither Django nor django-q2
    __getattr__ = lazy_exports(
        __name__,
        {
            "DjangoQExecutor": "airlock_django_q.executor",
            "django_q_executor": "airlock_django_q.executor",
            "scope_tasks": "airlock_django_q.worker",
            "unscope_tasks": "airlock_django_q.worker",
        },
    )

__version__ = "0.1.0"

__all__ = ["DjangoQExecutor", "django_q_executor", "scope_tasks", "unscope_tasks"]
