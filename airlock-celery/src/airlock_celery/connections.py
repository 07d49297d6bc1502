"""The broker connections a flush publishes over: the app's own, with every wait bounded.

Celery's default settings let a publish wait forever on a broker that stopped
answering without closing the connection (a frozen process, a failover, a NAT
that dropped the flow): kombu's Redis transport has no socket timeout unless
``broker_transport_options`` sets one, and py-amqp reads without a timeout.

A flush therefore takes its producer from a pool of the app's connections
(``app.connection_for_write()``, kombu's producer pools, as Celery's own
publishing does) whose transport options bound every socket wait, each one
taken from Celery's own settings:

* Redis: ``broker_transport_options["socket_timeout"]`` and
  ``["socket_connect_timeout"]``;
* RabbitMQ (py-amqp): ``broker_transport_options["read_timeout"]`` and
  ``["write_timeout"]``, and ``broker_connection_timeout`` for the connection
  itself (Celery passes it already);
* where the app sets none of these, ``broker_connection_timeout`` (4 seconds
  by default) stands in for it.

When the app sets every one of them, the pool is Celery's own. Waiting for a
free connection of the pool is bounded by ``broker_pool_acquire_timeout``
(Celery >= 5.6) or else by ``broker_connection_timeout``.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: The transport options that bound a socket wait, by kombu driver type.
TIMEOUT_OPTIONS = {
    "redis": ("socket_timeout", "socket_connect_timeout"),
    "amqp": ("read_timeout", "write_timeout"),
}

#: Per app, the connection whose pool its flushes use (built on the app's first flush).
_connections: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def flush_connection(app: Any) -> Any:
    """The app's write connection, with the socket timeouts the app leaves unset filled in.

    Read from the app's settings at its first flush, as Celery reads them
    when it builds its own pool.
    """
    try:
        return _connections[app]
    except KeyError:
        pass
    conf = app.conf
    connection = app.connection_for_write()
    given = conf.broker_transport_options or {}
    missing = {
        name: conf.broker_connection_timeout
        for name in TIMEOUT_OPTIONS.get(connection.transport.driver_type, ())
        if name not in given
    }
    if missing:
        connection = app.connection_for_write(transport_options=missing)
    _connections[app] = connection
    return connection


def wait_limit(app: Any) -> float | None:
    """How long a flush waits for the broker at a time: the app's read or socket timeout."""
    connection = flush_connection(app)
    options = connection.transport_options
    for name in TIMEOUT_OPTIONS.get(connection.transport.driver_type, ()):
        if name in options:
            return options[name]  # type: ignore[no-any-return]
    return app.conf.broker_connection_timeout  # type: ignore[no-any-return]


@contextmanager
def acquire_producer(app: Any) -> Iterator[Any]:
    """A producer of the flush pool for the length of the block, then back to the pool."""
    from kombu import pools

    app.pool  # noqa: B018 -- Celery sets kombu's pool limit from broker_pool_limit here
    pool = pools.producers[flush_connection(app)]
    timeout = app.conf.get("broker_pool_acquire_timeout") or app.conf.broker_connection_timeout
    producer = pool.acquire(block=True, timeout=timeout)
    try:
        yield producer
    finally:
        producer.release()


__all__ = ["TIMEOUT_OPTIONS", "acquire_producer", "flush_connection", "wait_limit"]
