"""Compatibility path for the ``django_q_executor``; it lives in airlock-django-q."""

from airlock.importing import require

require("airlock_django_q", "airlock-django-q")

from airlock_django_q import django_q_executor  # noqa: E402

__all__ = ["django_q_executor"]
