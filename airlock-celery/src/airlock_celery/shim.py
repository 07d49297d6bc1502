"""``LegacyTaskShim``: a task base whose ``.delay()`` goes through airlock, with a warning."""

from __future__ import annotations

import warnings
from typing import Any

from celery import Task

from airlock_celery._publishing import is_publishing, publishing
from airlock_celery.buffering import buffer_call


class LegacyTaskShim(Task):  # type: ignore[misc]
    """Use as ``@app.task(base=LegacyTaskShim)`` on a task you are migrating.

    ``.delay()`` and ``.apply_async()`` emit a ``DeprecationWarning`` and then
    ``airlock.enqueue()`` the call with its options, so it is buffered in the
    current scope and sent when the scope flushes. Outside a scope they raise
    ``NoScopeError``. They return the ``AsyncResult`` the message will have.
    The executor's own publish at flush, and ``self.retry()``, go straight to
    the broker.
    """

    def delay(self, *args: Any, **kwargs: Any) -> Any:
        """Buffer ``task(*args, **kwargs)`` in the current scope (deprecated: use enqueue)."""
        if is_publishing():
            return super().apply_async(args, kwargs)
        self._warn("delay")
        return buffer_call(self, args, kwargs, {})

    def apply_async(self, args: Any = None, kwargs: Any = None, **options: Any) -> Any:
        """Buffer the call with its options in the current scope (deprecated: use enqueue)."""
        if is_publishing():
            return super().apply_async(args, kwargs, **options)
        self._warn("apply_async")
        return buffer_call(self, args, kwargs, options)

    def retry(self, *args: Any, **kwargs: Any) -> Any:
        """Retry as Celery does: the retry message goes to the broker, not the buffer."""
        with publishing():
            return super().retry(*args, **kwargs)

    def _warn(self, method: str) -> None:
        warnings.warn(
            f"{self.name}.{method}() is deprecated: it now buffers through airlock;"
            f" call airlock.enqueue({self.name.rpartition('.')[2]}, ...) instead.",
            DeprecationWarning,
            stacklevel=3,
        )
