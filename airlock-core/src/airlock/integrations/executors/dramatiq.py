"""Compatibility path for the ``dramatiq_executor``; it lives in airlock-dramatiq."""

from airlock.importing import require

require("airlock_dramatiq", "airlock-dramatiq")

from airlock_dramatiq import dramatiq_executor  # noqa: E402

__all__ = ["dramatiq_executor"]
