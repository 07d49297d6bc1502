"""Compatibility path for the ``huey_executor``; it lives in airlock-huey."""

from airlock.importing import require

require("airlock_huey", "airlock-huey")

from airlock_huey import huey_executor  # noqa: E402

__all__ = ["huey_executor"]
