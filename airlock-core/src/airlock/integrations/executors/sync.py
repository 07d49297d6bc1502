"""The in-process executor, at its compatibility path."""

from airlock.dispatching import sync_executor

__all__ = ["sync_executor"]
