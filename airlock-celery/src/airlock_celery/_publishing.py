"""The flag that marks airlock's own publishes, so no shim or intercept buffers them again."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

#: True while the executor (or ``Task.retry``) publishes for real.
_publishing: ContextVar[bool] = ContextVar("airlock_celery_publishing", default=False)


def is_publishing() -> bool:
    """Whether the current context is airlock's own publish, which must reach the broker."""
    return _publishing.get()


@contextmanager
def publishing(active: bool = True) -> Iterator[None]:
    """Mark (or, with ``active=False``, unmark) the block as airlock's own publish."""
    token = _publishing.set(active)
    try:
        yield
    finally:
        _publishing.reset(token)
