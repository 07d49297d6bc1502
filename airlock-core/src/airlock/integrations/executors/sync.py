"""The in-process executor, at its seed path."""

from airlock.executors import sync_executor

__all__ = ["sync_executor"]
