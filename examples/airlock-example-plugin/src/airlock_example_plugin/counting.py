"""A dispatch counter fed by a lifecycle hook: how often each task went out.

It counts every dispatch in the process, through any executor, because
lifecycle hooks see the whole flush, not only this plugin's executor.
"""

from __future__ import annotations

import threading
from collections import Counter

_lock = threading.Lock()
_counts: Counter[str] = Counter()


def record(task_name: str) -> None:
    """Count one dispatch of ``task_name``."""
    with _lock:
        _counts[task_name] += 1


def dispatch_counts() -> dict[str, int]:
    """Dispatches so far, by task name (a copy)."""
    with _lock:
        return dict(_counts)


def reset_counts() -> None:
    """Start counting from zero (tests)."""
    with _lock:
        _counts.clear()
