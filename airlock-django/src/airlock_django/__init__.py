"""airlock for Django: transaction-aware scopes, the outbox, request middleware, settings, tasks.

    INSTALLED_APPS = [..., "airlock.integrations.django"]
    MIDDLEWARE = [..., "airlock.integrations.django.AirlockMiddleware"]
    AIRLOCK = {"EXECUTOR": "airlock.integrations.executors.celery.celery_executor"}

``django_tasks_executor`` needs Django >= 6.0; on older Django, importing it
raises ``ImportError`` saying so.
"""

from __future__ import annotations

from airlock.plugins import lazy_exports

TYPE_CHECKING = False
if TYPE_CHECKING:
    from airlock_django.conf import configure_from_settings
    from airlock_django.django_tasks import django_tasks_executor
    from airlock_django.middleware import AirlockMiddleware
    from airlock_django.outbox import OutboxScope
    from airlock_django.scopes import DjangoScope
else:  # importing the package (and its plugin) does not import Django's ORM;
    # django_tasks_executor needs Django >= 6.0 and its import error says so
    __getattr__ = lazy_exports(
        __name__,
        {
            "configure_from_settings": "airlock_django.conf",
            "django_tasks_executor": "airlock_django.django_tasks",
            "AirlockMiddleware": "airlock_django.middleware",
            "OutboxScope": "airlock_django.outbox",
            "DjangoScope": "airlock_django.scopes",
        },
    )

__version__ = "0.1.0"


__all__ = [
    "AirlockMiddleware",
    "DjangoScope",
    "OutboxScope",
    "configure_from_settings",
    "django_tasks_executor",
]
