"""Compatibility path for the Celery migration tools; they live in airlock-celery."""

from airlock.importing import require

require("airlock_celery", "airlock-celery")

from airlock_celery import (  # noqa: E402
    LegacyTaskShim,
    install_global_intercept,
    uninstall_global_intercept,
)

__all__ = ["LegacyTaskShim", "install_global_intercept", "uninstall_global_intercept"]
