"""The ``django`` plugin of the ``airlock`` entry-point group.

Registers the ``django`` scope (``DjangoScope``), the ``django_tasks``
executor (on Django >= 6.0) and ``airlock check`` support: when
``DJANGO_SETTINGS_MODULE`` is set, ``airlock check`` reports this app's
system checks (tag ``airlock``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import django

import airlock
from airlock import Scope
from airlock_django.scopes import DjangoScope


@airlock.hookimpl
def airlock_register_scopes() -> Mapping[str, type[Scope]]:
    """``django``: the transaction-aware scope."""
    return {"django": DjangoScope}


@airlock.hookimpl
def airlock_register_executors() -> Mapping[str, Callable[..., Any]]:
    """``django_tasks``: Django's tasks framework, which exists from Django 6.0 on."""
    if django.VERSION < (6, 0):
        return {}
    from airlock_django.django_tasks import django_tasks_executor

    return {"django_tasks": django_tasks_executor}


@airlock.hookimpl
def airlock_check() -> Iterable[str]:
    """Run the ``airlock`` system checks once Django is set up; report errors."""
    from django.apps import apps

    if not apps.ready:
        return []
    from django.core.checks import run_checks

    from airlock_django import checks

    messages = run_checks(tags=[checks.TAG])
    return [
        f"{m.id}: {m.msg}" + (f" HINT: {m.hint}" if m.hint else "")
        for m in messages
        if m.is_serious() and not m.is_silenced()
    ]
