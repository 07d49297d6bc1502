"""What worker integrations call around each task they run: ``running_task``.

airlock-celery, airlock-dramatiq, airlock-rq and the others run each task of
a worker in its own scope. Around that, they call ``running_task`` with the
task's name and the headers its intent carried, so that plugins hear about
the run (``airlock_task_started`` / ``airlock_task_finished``): a tracing
plugin restores the enqueuer's trace context there. While no plugin
implements those hooks, ``running_task`` does nothing.
"""

from __future__ import annotations

from airlock import manager
from airlock.lifecycle import lifecycle

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import TracebackType

#: The headers of a task whose intent carried none.
NO_HEADERS: Mapping[str, str] = {}


class running_task:  # noqa: N801  (used like a function: `with running_task(...):`)
    """Tell plugins a task runs: ``with airlock.plugins.running_task(name, headers):``.

    Enter it in the context the task's body runs in, around the task's scope,
    so that what a plugin sets up when the task starts (a trace context) is
    in force while the task enqueues and while its scope flushes. Entering it
    loads the plugins first if nothing in the worker has yet: a worker's first
    task must be announced like the others.
    """

    __slots__ = ("headers", "task_name")

    def __init__(self, task_name: str, headers: Mapping[str, str] | None = None) -> None:
        self.task_name = task_name
        self.headers = NO_HEADERS if headers is None else headers

    def __enter__(self) -> None:
        manager.load()
        if lifecycle.task_started is not None:
            lifecycle.task_started(task_name=self.task_name, headers=self.headers)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if lifecycle.task_finished is not None:
            lifecycle.task_finished(task_name=self.task_name, error=exc)


__all__ = ["running_task"]
