"""Where the ``rq`` executor finds Redis, and which queue it uses by default.

A connection is looked for in this order: ``configure(connection=...)`` (or
``configure(url=...)``), the ``AIRLOCK_RQ_URL`` environment variable, then
Django's ``AIRLOCK_RQ_URL`` setting when Django is configured. Inside a job run
by ``AirlockJob`` the worker's own connection is the last resort.
"""

from __future__ import annotations

import os
import sys
from contextvars import ContextVar
from typing import Any

from redis import Redis

from airlock import UsageError

URL_ENV = "AIRLOCK_RQ_URL"
URL_SETTING = "AIRLOCK_RQ_URL"
DEFAULT_QUEUE = "default"


class _Settings:
    """What ``configure()`` set; ``None`` means "not given"."""

    connection: Redis | None = None
    url: str | None = None
    default_queue: str = DEFAULT_QUEUE


_settings = _Settings()
_clients: dict[str, Redis] = {}

#: The connection of the job ``AirlockJob`` is running in this context, if any.
worker_connection: ContextVar[Redis | None] = ContextVar(
    "airlock_rq_worker_connection", default=None
)


def configure(
    connection: Redis | None = None,
    *,
    url: str | None = None,
    default_queue: str | None = None,
) -> None:
    """Set the Redis connection (or its URL) and the default queue of the ``rq`` executor.

    Arguments left out keep their current value. ``default_queue`` is the queue
    used when an intent names none in ``_dispatch_options["queue"]``.
    """
    if connection is not None and url is not None:
        raise UsageError("airlock_rq.configure() takes connection= or url=, not both.")
    if connection is not None and not isinstance(connection, Redis):
        raise UsageError(
            f"airlock_rq.configure(connection=...) needs a redis.Redis client, got"
            f" {connection!r} ({type(connection).__name__})."
        )
    if default_queue is not None and (not isinstance(default_queue, str) or not default_queue):
        raise UsageError(f"default_queue must be a queue name, got {default_queue!r}.")
    if connection is not None:
        _settings.connection, _settings.url = connection, None
    if url is not None:
        _settings.connection, _settings.url = None, url
    if default_queue is not None:
        _settings.default_queue = default_queue


def reset_configuration() -> None:
    """Forget what ``configure()`` set (the environment and Django are read again)."""
    _settings.connection = None
    _settings.url = None
    _settings.default_queue = DEFAULT_QUEUE


def default_queue() -> str:
    """The queue for intents that do not name one."""
    return _settings.default_queue


def is_configured() -> bool:
    """Whether the application set a connection up (``configure()``, environment, Django)."""
    return bool(
        _settings.connection is not None
        or _settings.url
        or os.environ.get(URL_ENV)
        or _django_url()
    )


def get_connection() -> Redis:
    """The Redis client the executor publishes with; a ``UsageError`` says how to set one."""
    if _settings.connection is not None:
        return _settings.connection
    url = _settings.url or os.environ.get(URL_ENV) or _django_url()
    if url:
        client = _clients.get(url)
        if client is None:
            client = _clients[url] = Redis.from_url(url)
        return client
    in_job = worker_connection.get()
    if in_job is not None:
        return in_job
    raise UsageError(
        "The rq executor has no Redis connection. Configure one of: "
        "airlock_rq.configure(connection=Redis.from_url(...)) at startup; the"
        f" {URL_ENV} environment variable (redis://host:port/db); or, in a Django"
        f" project, the {URL_SETTING} setting."
    )


def _django_url() -> str | None:
    if "django.conf" not in sys.modules:
        return None  # Django is not in use; do not import it
    import importlib

    settings: Any = importlib.import_module("django.conf").settings
    if not settings.configured:
        return None
    value: Any = getattr(settings, URL_SETTING, None)
    if value is not None and not isinstance(value, str):
        raise UsageError(f"settings.{URL_SETTING} must be a redis:// URL, got {value!r}.")
    return value
