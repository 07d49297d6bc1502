"""Turn a ``.delay()`` / ``.apply_async()`` call into a buffered intent.

Shared by ``LegacyTaskShim`` and the global intercept, so both buffer the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import airlock

#: Options that are handles to a connection of the caller's moment, not part of
#: the message: the executor brings its own producer at flush.
TRANSPORT_HANDLES = ("producer", "connection", "publisher")


def buffer_call(
    task: Any,
    args: Sequence[Any] | None,
    kwargs: Mapping[str, Any] | None,
    options: dict[str, Any],
) -> Any:
    """Enqueue ``task`` with its call options; return the ``AsyncResult`` it will have.

    The task id is chosen now (``task_id`` joins the dispatch options), so the
    returned result refers to the message the flush will send. Raises
    ``NoScopeError`` outside a scope, like ``airlock.enqueue()``.
    """
    for handle in TRANSPORT_HANDLES:
        options.pop(handle, None)
    if not options.get("task_id"):
        from celery.utils import uuid

        options["task_id"] = uuid()
    airlock.enqueue(task, *(args or ()), _dispatch_options=options, **(kwargs or {}))
    return task.AsyncResult(options["task_id"])
