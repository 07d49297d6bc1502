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
* ``airlock.W004`` ``OUTBOX["FAST_PATH"]`` is ``False`` and no relay has a fresh heartbeat
  on the outbox's database: effects are stored and nothing publishes them (looked up only
  when the checks may use the database: ``manage.py check --database default`` or
  ``--tag airlock``, ``migrate``, ``airlock check``).
* ``airlock.E012`` the outbox scope is configured on a MariaDB or MySQL server without
  ``SELECT ... FOR UPDATE SKIP LOCKED`` (MariaDB < 10.6, MySQL < 8.0.1): the relay refuses
  to run there (a database check).
* ``airlock.I001`` ``OUTBOX["FAST_PATH"]`` is ``False`` on a database without
  ``LISTEN``/``NOTIFY``: the relay polls every ``--interval`` seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig, apps
from django.conf import settings
from django.core import checks
from django.db import DatabaseError
from django.utils.module_loading import import_string

import airlock
from airlock_django.conf import read_outbox_settings, read_settings

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


def _relay_only() -> str | None:
    """The outbox's database alias when ``FAST_PATH`` is off (only a relay publishes)."""
    raw = getattr(settings, "AIRLOCK", None)
    if not isinstance(raw, dict) or not apps.is_installed(APP):
        return None
    if read_outbox_settings(raw.get("OUTBOX"))[0].fast_path:
        return None
    return _scope_database(raw)


def _scope_database(raw: dict[str, Any]) -> str | None:
    """The database alias the configured scope writes to (``SCOPE_KWARGS["using"]``).

    ``None`` when that alias is not in ``DATABASES``: ``airlock.E006`` says so.
    """
    scope_kwargs = raw.get("SCOPE_KWARGS")
    using = (scope_kwargs if isinstance(scope_kwargs, dict) else {}).get("using") or "default"
    return using if using in settings.DATABASES else None


@checks.register(TAG)
def check_relay_wakeup(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """With ``FAST_PATH`` off on a database without ``NOTIFY``, say that the relay polls."""
    from airlock_django.wakeup import can_notify

    using = _relay_only()
    if using is None or can_notify(using):
        return []
    return [
        checks.Info(
            f"settings.AIRLOCK['OUTBOX']['FAST_PATH'] is False and database {using!r} has"
            f" no LISTEN/NOTIFY: a commit cannot wake the relay, which finds new rows by"
            f" polling, every --interval seconds.",
            hint="Lower `airlock_relay --interval` for a shorter delay (each pass is one"
            " query), or use PostgreSQL, or keep FAST_PATH True.",
            obj="settings.AIRLOCK",
            id="airlock.I001",
        )
    ]


@checks.register(TAG, checks.Tags.database)
def check_relay_running(
    app_configs: Sequence[AppConfig] | None = None,
    databases: Sequence[str] | None = None,
    **kwargs: Any,
) -> list[checks.CheckMessage]:
    """With ``FAST_PATH`` off, a relay must publish: warn when no heartbeat shows one.

    Tagged ``database``: plain ``manage.py check`` skips it; ``check --database``,
    ``check --tag airlock``, ``migrate`` and ``airlock check`` run it.
    """
    using = _relay_only()
    if using is None or databases is None or using not in databases:
        return []  # Django < 5.0 passes None when the database may not be used
    from airlock_django.relay import relays_seen

    try:
        if relays_seen(using):
            return []
        why = "no relay has written a heartbeat lately"
    except DatabaseError as exc:
        why = f"its heartbeat table could not be read ({' '.join(str(exc).split())})"
    return [
        checks.Warning(
            f"settings.AIRLOCK['OUTBOX']['FAST_PATH'] is False, so only a relay publishes"
            f" the outbox's rows, and {why} on database {using!r}: effects are stored"
            f" but nothing sends them.",
            hint="Run `python manage.py airlock_relay --loop` (as a service, next to the"
            " web processes) or schedule the periodic relay task; or set FAST_PATH to"
            " True. See docs/outbox.md.",
            obj="settings.AIRLOCK",
            id="airlock.W004",
        )
    ]


@checks.register(TAG, checks.Tags.database)
def check_relay_locks(
    app_configs: Sequence[AppConfig] | None = None,
    databases: Sequence[str] | None = None,
    **kwargs: Any,
) -> list[checks.CheckMessage]:
    """The relay needs ``SKIP LOCKED`` on MariaDB and MySQL: an older server is an error."""
    from django.db import connections

    from airlock_django.outbox import OutboxScope
    from airlock_django.relay import unlocked_mysql

    raw = getattr(settings, "AIRLOCK", None)
    if not isinstance(raw, dict) or not apps.is_installed(APP):
        return []
    scope = raw.get("SCOPE")
    if scope != "outbox" and not (isinstance(scope, type) and issubclass(scope, OutboxScope)):
        return []
    using = _scope_database(raw)
    if using is None or databases is None or using not in databases:
        return []
    connection = connections[using]
    try:
        if connection.vendor != "mysql" or connection.features.has_select_for_update_skip_locked:
            return []
    except DatabaseError:
        return []  # unreachable: the relay says so when it runs
    return [
        checks.Error(
            unlocked_mysql(using),
            hint="Upgrade the server, or keep the outbox on PostgreSQL.",
            obj="settings.DATABASES",
            id="airlock.E012",
        )
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
