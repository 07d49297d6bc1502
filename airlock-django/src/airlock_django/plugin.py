"""The ``django`` plugin of the ``airlock`` entry-point group.

Registers the ``django`` scope (``DjangoScope``), the ``outbox`` scope
(``OutboxScope``), the ``django_tasks``
executor (on Django >= 6.0) and ``airlock check`` support: when
``DJANGO_SETTINGS_MODULE`` is set, ``airlock check`` reports this app's
system checks (tag ``airlock``). Importing it does not import Django's ORM:
the scope and executor are lazy references, imported when first looked up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import django

import airlock
from airlock.plugins import CheckWarning


@airlock.hookimpl
def airlock_register_scopes() -> Mapping[str, str]:
    """``django``: the transaction-aware scope; ``outbox``: the durable one."""
    return {
        "django": "airlock_django.scopes:DjangoScope",
        "outbox": "airlock_django.outbox:OutboxScope",
    }


@airlock.hookimpl
def airlock_register_executors() -> Mapping[str, str]:
    """``django_tasks``: Django's tasks framework, which exists from Django 6.0 on."""
    if django.VERSION < (6, 0):
        return {}
    return {"django_tasks": "airlock_django.django_tasks:django_tasks_executor"}


@airlock.hookimpl
def airlock_check() -> Iterable[str]:
    """Run the ``airlock`` system checks once Django is set up; report errors and warnings.

    The checks may use the databases (a relay's heartbeat is looked up there);
    warnings come back as ``CheckWarning``, which ``airlock check`` prints
    without failing.
    """
    from django.apps import apps

    if not apps.ready:
        return []
    from django.conf import settings
    from django.core.checks import WARNING, run_checks

    from airlock_django import checks

    messages = run_checks(tags=[checks.TAG], databases=list(settings.DATABASES))
    found: list[str] = []
    for m in messages:
        if m.level < WARNING or m.is_silenced():
            continue
        text = f"{m.id}: {m.msg}" + (f" HINT: {m.hint}" if m.hint else "")
        found.append(text if m.is_serious() else CheckWarning(text))
    return found
