"""Compatibility path for the ``rq_executor``; it lives in airlock-rq."""

from airlock.importing import require

require("airlock_rq", "airlock-rq")

from airlock_rq import rq_executor  # noqa: E402

__all__ = ["rq_executor"]
