"""What integrations call around a worker's tasks and an executor's messages.

``running_task`` around each task a worker runs, ``publishing`` around each
message an executor sends.

airlock-celery, airlock-dramatiq, airlock-rq and the others run each task of
a worker in its own scope. Around that, they call ``running_task`` with the
task's name and the headers its intent carried, so that plugins hear about
the run (``airlock_task_started`` / ``airlock_task_finished``): a tracing
plugin restores the enqueuer's trace context there. While no plugin
implements those hooks, ``running_task`` does nothing. Executors that send one
message per intent wrap each send in ``publishing(intent)`` the same way
(``airlock_publish_started`` / ``airlock_publish_finished``).
"""

from __future__ import annotations

from collections.abc import Mapping

from airlock import manager
from airlock.lifecycle import lifecycle

TYPE_CHECKING = False
if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from types import TracebackType

    from airlock.intents import Intent

#: The headers of a task whose intent carried none.
NO_HEADERS: Mapping[str, str] = {}


class running_task:  # noqa: N801  (used like a function: `with running_task(...):`)
    """Tell plugins a task runs: ``with airlock.plugins.running_task(name, headers):``.

    Enter it in the context the task's body runs in, around the task's scope,
    so that what a plugin sets up when the task starts (a trace context) is
    in force while the task enqueues and while its scope flushes. Entering it
    loads the plugins first if nothing in the worker has yet: a worker's first
    task must be announced like the others.

    ``headers`` is what the task's message carried for its intent, as read
    back, unchecked: a message may come from elsewhere, so plugins hear only
    a mapping's string keys with string values (nothing, for anything else).
    """

    __slots__ = ("headers", "task_name")

    def __init__(self, task_name: str, headers: object = None) -> None:
        self.task_name = task_name
        self.headers = headers

    def __enter__(self) -> None:
        manager.load()
        if lifecycle.task_started is not None:
            lifecycle.task_started(task_name=self.task_name, headers=_readable(self.headers))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if lifecycle.task_finished is not None:
            lifecycle.task_finished(task_name=self.task_name, error=exc)


def _readable(headers: object) -> Mapping[str, str]:
    """The string pairs of a message's headers; ``NO_HEADERS`` when it holds no mapping."""
    if not isinstance(headers, Mapping):
        return NO_HEADERS
    return {k: v for k, v in headers.items() if isinstance(k, str) and isinstance(v, str)}


class _NotListening:
    """What ``publishing()`` returns while no plugin listens.

    Not ``contextlib.nullcontext``: that would cost ``import airlock`` an import.
    """

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        return None


_NOT_LISTENING = _NotListening()


def publishing(intent: Intent) -> AbstractContextManager[None]:
    """Tell plugins an intent's message is sent: ``with airlock.plugins.publishing(intent):``.

    An executor enters it around building and sending each intent's message,
    in the context of the send. While no plugin implements
    ``airlock_publish_started`` or ``airlock_publish_finished`` it returns a
    shared no-op: one attribute check per message.
    """
    if lifecycle.publish_started is None and lifecycle.publish_finished is None:
        return _NOT_LISTENING
    return _Publishing(intent)


class _Publishing:
    """The ``publishing()`` of an intent while some plugin listens."""

    __slots__ = ("intent",)

    def __init__(self, intent: Intent) -> None:
        self.intent = intent

    def __enter__(self) -> None:
        if lifecycle.publish_started is not None:
            lifecycle.publish_started(intent=self.intent)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if lifecycle.publish_finished is not None:
            lifecycle.publish_finished(intent=self.intent, error=exc)


__all__ = ["publishing", "running_task"]
