"""Finding a Celery task by its name, in what the application registered.

Shared by the executor (an intent whose task is a string) and the plugin's
``airlock_resolve_task`` hook (the outbox relay turning a stored name back into
a task, and airlock's task router routing a string task by kind), so that both
find the same task. A name is only ever looked up in the task registry of
Celery's current app; it is never imported as a dotted path.
"""

from __future__ import annotations

import weakref
from typing import Any


def current_app() -> Any:
    """Celery's current app itself (not its proxy): the one ``send_task()`` would use."""
    from celery import current_app as proxy

    return proxy._get_current_object()


def registered_task(app: Any, name: str) -> Any | None:
    """The task registered on ``app`` as ``name``, or ``None``.

    When the name is not registered yet, the app's own task modules
    (``imports``, ``include``, ``autodiscover_tasks()``) are imported first, as
    a worker imports them when it starts: a task defined in a module the
    process has not imported yet is found. That happens once per app; a module
    that fails to import raises its error, and is tried again at the next
    lookup.
    """
    task = app.tasks.get(name)
    if task is None and app not in _imported:
        app.loader.import_default_modules()
        _imported.add(app)
        task = app.tasks.get(name)
    return task


#: Apps whose own task modules ``registered_task`` has imported, once each.
_imported: weakref.WeakSet[Any] = weakref.WeakSet()

__all__ = ["current_app", "registered_task"]
