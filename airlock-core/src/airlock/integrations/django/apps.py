"""Lets ``"airlock.integrations.django"`` in INSTALLED_APPS find airlock-django's AppConfig."""

from airlock_django.apps import AirlockDjangoConfig

__all__ = ["AirlockDjangoConfig"]
