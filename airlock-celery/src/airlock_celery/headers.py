"""``Intent.headers`` in a Celery message, and back out of the worker's request.

They travel as one message header, ``airlock_headers`` (a mapping of
strings), next to whatever headers the caller or other instrumentation set:
opentelemetry-instrumentation-celery writes its own ``traceparent`` at
publish time, and must not overwrite the one airlock captured at enqueue.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from airlock.plugins import running_task

if TYPE_CHECKING:
    from airlock import Intent

#: The message header that carries an intent's headers.
HEADER = "airlock_headers"


def dispatch_options(intent: Intent) -> Mapping[str, Any] | None:
    """The intent's dispatch options, with its headers added to the message's ``headers``."""
    options = intent.dispatch_options
    if not intent.headers:
        return options
    headers = dict((options or {}).get("headers") or {})
    headers[HEADER] = dict(intent.headers)
    return {**(options or {}), "headers": headers}


def request_headers(request: Any) -> object:
    """What the running task's message carried in ``airlock_headers`` (``None`` if nothing).

    Celery puts a message's custom headers on the task's request; the value is
    handed on unchecked, and ``running_task`` keeps only its string pairs.
    """
    found = getattr(request, HEADER, None)
    if found is None:
        headers = getattr(request, "headers", None)
        if isinstance(headers, Mapping):
            found = headers.get(HEADER)
    return found


def running(task: Any) -> AbstractContextManager[None]:
    """``running_task`` for a run of ``task`` on a worker; nothing for a direct call."""
    request = task.request
    if request.called_directly:
        return nullcontext()
    return running_task(task.name, request_headers(request))
