"""The app config: installing the app configures airlock from ``settings.AIRLOCK``."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class AirlockDjangoConfig(AppConfig):
    """``"airlock.integrations.django"`` (or ``"airlock_django"``) in INSTALLED_APPS.

    On ``ready()`` it registers the system checks and configures airlock:
    ``settings.AIRLOCK`` picks the executor, policy and scope class, and plain
    ``airlock.scope()`` / ``@airlock.scoped()`` open a ``DjangoScope``. It
    never raises for a bad setting; ``manage.py check`` reports it. Changing
    ``AIRLOCK`` with ``override_settings`` reconfigures airlock.
    """

    name = "airlock_django"
    label = "airlock"
    verbose_name = "airlock"
    default_auto_field = "django.db.models.BigAutoField"
    default = True

    def ready(self) -> None:
        """Register the checks and apply ``settings.AIRLOCK``."""
        from django.test.signals import setting_changed

        from airlock_django import checks  # noqa: F401  (registers the system checks)
        from airlock_django.conf import configure_from_settings

        configure_from_settings()
        setting_changed.connect(_reconfigure, dispatch_uid="airlock_django.apps")


def _reconfigure(*, setting: str, **kwargs: Any) -> None:
    if setting == "AIRLOCK":
        from airlock_django.conf import configure_from_settings

        configure_from_settings()
