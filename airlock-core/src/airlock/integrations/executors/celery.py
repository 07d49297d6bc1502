"""Compatibility path for the ``celery_executor``; it lives in airlock-celery."""

from airlock.importing import require

require("airlock_celery", "airlock-celery")

from airlock_celery import celery_executor  # noqa: E402

__all__ = ["celery_executor"]
