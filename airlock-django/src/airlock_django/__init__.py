"""airlock for Django: transaction-aware scopes, request middleware, settings, Django tasks.

    INSTALLED_APPS = [..., "airlock.integrations.django"]
    MIDDLEWARE = [..., "airlock.integrations.django.AirlockMiddleware"]
    AIRLOCK = {"EXECUTOR": "airlock.integrations.executors.celery.celery_executor"}

``django_tasks_executor`` needs Django >= 6.0; on older Django, importing it
raises ``ImportError`` saying so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airlock_django.conf import configure_from_settings
from airlock_django.middleware import AirlockMiddleware
from airlock_django.scopes import DjangoScope

if TYPE_CHECKING:
    from airlock_django.django_tasks import django_tasks_executor

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # Only on Django >= 6.0; the import error explains why otherwise.
    if name == "django_tasks_executor":
        from airlock_django.django_tasks import django_tasks_executor

        return django_tasks_executor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AirlockMiddleware",
    "DjangoScope",
    "configure_from_settings",
    "django_tasks_executor",
]
