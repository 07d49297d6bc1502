"""Worker-side scoping: each job runs in an airlock scope.

Run workers with ``rq worker --job-class airlock_rq.AirlockJob``. What a job enqueues through
airlock escapes when the job returns, and is discarded when it raises (so a
retried job does not leave the effects of its failed attempts behind).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from rq.job import Job

import airlock
from airlock.plugins import running_task
from airlock_rq import config
from airlock_rq.options import HEADERS


class AirlockJob(Job):
    """An RQ job whose execution is an airlock scope: flush on success, discard on failure.

    ``airlock_scope_options`` are passed to ``airlock.scope()``; subclass to set
    them (``{"executor": "rq"}``). Left empty, the scope uses the process-wide
    defaults (``airlock.configure()``, ``AIRLOCK_EXECUTOR``). While the job runs,
    the ``rq`` executor falls back to the worker's own Redis connection when
    none is configured. Around the scope, the run is announced to plugins
    (``airlock.plugins.running_task``) with the headers the job's intent
    carried (``meta["airlock_headers"]``).
    """

    airlock_scope_options: ClassVar[Mapping[str, Any]] = {}

    def perform(self) -> Any:
        """Run the job inside a scope; a failed flush fails the job."""
        # Import the job's module first: the configuration it sets on import
        # (airlock.configure(...)) must be in force when the scope opens.
        self.func  # noqa: B018
        token = config.worker_connection.set(self.connection)
        try:
            with (
                running_task(self.func_name or "", (self.meta or {}).get(HEADERS)),
                airlock.scope(**self.airlock_scope_options),
            ):
                return super().perform()
        finally:
            config.worker_connection.reset(token)
