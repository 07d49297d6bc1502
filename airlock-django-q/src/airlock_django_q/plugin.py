"""The ``django_q`` plugin: registers the executor under the name ``django_q``.

Importing it imports neither Django nor django-q2: the executor is a lazy
reference, imported when ``"django_q"`` is first looked up.

It claims no task kind and resolves no task names: a django-q2 task is a plain
function (or its dotted path), which nothing tells apart from any other
function, and django-q2 keeps no registry of tasks to look a name up in. So a
function goes to ``django_q`` only when that executor is chosen, and a task
named by a string is handed to django-q2 as the dotted path it is.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping

import airlock


@airlock.hookimpl
def airlock_register_executors() -> Mapping[str, str]:
    """``executor="django_q"`` selects :data:`airlock_django_q.django_q_executor`."""
    return {"django_q": "airlock_django_q.executor:django_q_executor"}


@airlock.hookimpl
def airlock_check() -> Iterable[str]:
    """Warn when django-q2 is set up (``Q_CLUSTER``) but no executor is configured.

    A django-q2 task is a plain function, which the default executor (routing
    by task kind) runs in-process.
    """
    if "django.conf" not in sys.modules:
        return []  # not a Django project: nothing set django-q2 up
    from django.conf import settings

    if not settings.configured or not getattr(settings, "Q_CLUSTER", None):
        return []
    if airlock.get_configuration()["executor"] is not airlock.plugins.lookup("executor", "auto"):
        return []
    return [
        airlock.plugins.CheckWarning(
            "django-q2 is set up (Q_CLUSTER), but no airlock executor is configured: a"
            " django-q2 task is a plain function, so the default executor runs it in-process."
            " Select django-q2 with AIRLOCK = {'EXECUTOR': 'django_q'} (or per scope,"
            " airlock.scope(executor='django_q'))."
        )
    ]
