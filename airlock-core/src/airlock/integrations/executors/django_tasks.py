"""Compatibility path for the ``django_tasks_executor``; it lives in airlock-django."""

from airlock.importing import require

require("airlock_django", "airlock-django")

from airlock_django import django_tasks_executor  # noqa: E402

__all__ = ["django_tasks_executor"]
