"""System checks (tag ``airlock``): invalid settings show up in ``manage.py check``.

Check ids:

* ``airlock.E001`` ``settings.AIRLOCK`` is not a dict.
* ``airlock.E002`` ``settings.AIRLOCK`` has an unknown key.
* ``airlock.E003`` the executor (``EXECUTOR``, or ``AIRLOCK_EXECUTOR``) does not resolve.
* ``airlock.E004`` ``POLICY`` does not resolve to a policy.
* ``airlock.E005`` ``SCOPE`` is not a ``Scope`` subclass (or does not resolve).
* ``airlock.E006`` ``SCOPE_KWARGS`` is not a dict or does not suit the scope class.
* ``airlock.E007`` ``OUTBOX`` is not a dict, or one of its keys is unknown or invalid.
* ``airlock.E010`` ``AirlockMiddleware`` is in ``MIDDLEWARE`` but the app is not installed.
* ``airlock.E011`` an installed airlock plugin (entry point) fails to load.
* ``airlock.W001`` ``SCOPE`` is a ``Scope`` that does not wait for the transaction.
* ``airlock.W002`` a middleware below ``AirlockMiddleware`` has ``process_exception``: it
  could turn a view's exception into a response before airlock sees the exception.
* ``airlock.W003`` ``OUTBOX["RELAY_AFTER"]`` is so short that the relay races the fast
  path, and effects go out twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig, apps
from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

import airlock
from airlock_django.conf import read_settings

TAG = "airlock"
APP = "airlock_django"
INSTALLED_APPS_ENTRY = "airlock.integrations.django"


@checks.register(TAG)
def check_settings(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Report what is wrong with ``settings.AIRLOCK``."""
    _, problems = read_settings()
    return [
        (checks.Error if p.serious else checks.Warning)(
            p.message, hint=p.hint, obj="settings.AIRLOCK", id=p.check_id
        )
        for p in problems
    ]


@checks.register(TAG)
def check_plugins(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Report each installed airlock plugin that failed to load, naming its distribution.

    airlock keeps working without it (``airlock.plugins.load_failures()``
    records it); what it registers is missing until it is fixed.
    """
    return [
        checks.Error(
            str(failure),
            hint="Fix or uninstall the distribution named; what it registers is missing"
            " until then. `airlock plugins` marks it with its error.",
            obj="airlock plugins",
            id="airlock.E011",
        )
        for failure in airlock.plugins.load_failures()
    ]


@checks.register(TAG)
def check_middleware(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """The middleware needs the app, and should sit below exception-handling middleware."""
    listed = _middleware()
    positions = [i for i, path in enumerate(listed) if _is_airlock_middleware(path)]
    if not positions:
        return []
    if apps.is_installed(APP):
        return [
            checks.Warning(
                f"{path} is listed below AirlockMiddleware and has process_exception(): it"
                f" can turn a view's exception into a response before AirlockMiddleware"
                f" notices, and the request's effects would then be flushed.",
                hint=f"Move AirlockMiddleware below {path} in settings.MIDDLEWARE.",
                obj="settings.MIDDLEWARE",
                id="airlock.W002",
            )
            for path in listed[positions[-1] + 1 :]
            if _has_process_exception(path)
        ]
    return [
        checks.Error(
            "AirlockMiddleware is in settings.MIDDLEWARE, but the airlock app is not in"
            " INSTALLED_APPS, so settings.AIRLOCK is never applied.",
            hint=f"Add {INSTALLED_APPS_ENTRY!r} to INSTALLED_APPS.",
            obj="settings.MIDDLEWARE",
            id="airlock.E010",
        )
    ]


def _middleware() -> list[str]:
    value = getattr(settings, "MIDDLEWARE", None) or []
    return [m for m in value if isinstance(m, str)]


def _has_process_exception(path: str) -> bool:
    try:
        found = import_string(path)
    except ImportError:
        return False
    return callable(getattr(found, "process_exception", None))


def _is_airlock_middleware(path: str) -> bool:
    from airlock_django.middleware import AirlockMiddleware

    try:
        found = import_string(path)
    except ImportError:
        return False
    return isinstance(found, type) and issubclass(found, AirlockMiddleware)
