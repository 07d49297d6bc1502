"""``ScopedTask``: a task base class that runs every call of the task in its own scope."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from celery import Task

import airlock
from airlock_celery.headers import running


class ScopedTask(Task):  # type: ignore[misc]
    """Each run of the task gets an ``airlock.scope()``: flush on success, discard on error.

    The same as stacking ``@app.task`` over ``@airlock.scoped()``, for apps that
    prefer ``@app.task(base=ScopedTask)``. ``self.retry()`` raises, so a retried
    run discards what it buffered; the retry itself is published as usual.
    ``airlock_scope`` holds keyword arguments for the scope, e.g.
    ``@app.task(base=ScopedTask, airlock_scope={"executor": "celery"})``.
    On a worker, the run is also announced to plugins
    (``airlock.plugins.running_task``) with the headers its intent carried.
    """

    airlock_scope: ClassVar[Mapping[str, Any]] = {}

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the task body inside its own scope (and, on a worker, ``running_task``)."""
        with running(self), airlock.scope(**self.airlock_scope):
            return super().__call__(*args, **kwargs)
