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

import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: The transport options that bound a socket wait, by kombu driver type.
TIMEOUT_OPTIONS = {
    "redis": ("socket_timeout", "socket_connect_timeout"),
    "amqp": ("read_timeout", "write_timeout"),
}

#: Per app, what its flushes publish over (built on the app's first flush).
_pools: weakref.WeakKeyDictionary[Any, FlushPool] = weakref.WeakKeyDictionary()


class FlushPool:
    """An app's flush connection, its producer pool, and how long a flush waits.

    Read from the app's settings at its first flush, as Celery reads them when
    it builds its own pool; looked up again in a child process after a fork,
    where kombu starts its pools afresh.
    """

    __slots__ = ("acquire_timeout", "connection", "pid", "pool", "wait")

    def __init__(self, app: Any) -> None:
        from kombu import pools

        conf = app.conf
        connection = app.connection_for_write()
        names = TIMEOUT_OPTIONS.get(connection.transport.driver_type, ())
        given = conf.broker_transport_options or {}
        missing = {name: conf.broker_connection_timeout for name in names if name not in given}
        if missing:
            connection = app.connection_for_write(transport_options=missing)
        self.connection = connection
        #: How long a flush waits for the broker at a time: its read or socket timeout.
        self.wait: float | None = (
            connection.transport_options[names[0]] if names else conf.broker_connection_timeout
        )
        app.pool  # noqa: B018 -- Celery sets kombu's pool limit from broker_pool_limit here
        self.pool = pools.producers[connection]
        self.acquire_timeout = (
            conf.get("broker_pool_acquire_timeout") or conf.broker_connection_timeout
        )
        self.pid = os.getpid()


def flush_pool(app: Any) -> FlushPool:
    """The app's ``FlushPool``, built on its first flush (in this process)."""
    found = _pools.get(app)
    if found is None or found.pid != os.getpid():
        found = _pools[app] = FlushPool(app)
    return found


def flush_connection(app: Any) -> Any:
    """The app's write connection, with the socket timeouts the app leaves unset filled in."""
    return flush_pool(app).connection


@contextmanager
def acquire_producer(app: Any) -> Iterator[Any]:
    """A producer of the flush pool for the length of the block, then back to the pool."""
    from kombu.exceptions import LimitExceeded, OperationalError

    found = flush_pool(app)
    try:
        producer = found.pool.acquire(block=True, timeout=found.acquire_timeout)
    except LimitExceeded as exc:
        raise OperationalError(
            f"No broker connection of the flush pool came free within"
            f" {found.acquire_timeout} s: all {found.pool.limit} are in use. Raise"
            f" broker_pool_limit, or broker_pool_acquire_timeout."
        ) from exc
    try:
        yield producer
    finally:
        producer.release()


__all__ = ["TIMEOUT_OPTIONS", "FlushPool", "acquire_producer", "flush_connection", "flush_pool"]
