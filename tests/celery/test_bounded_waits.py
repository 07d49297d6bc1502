"""A broker that stops answering fails the flush in bounded time, every intent accounted for.

A frozen Redis is a redis-server of this test's own, stopped with SIGSTOP; a
frozen RabbitMQ is the shared broker seen through a proxy that stops
forwarding as the flush starts publishing. Each flush runs in a thread the
test joins with a generous limit, so a flush that blocks fails the test
instead of hanging it; the assertions run while the broker is still frozen.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from kombu import Producer
from kombu.exceptions import OperationalError
from proxy import FreezingProxy
from worker_app import make_app

import airlock
from airlock_celery import CeleryExecutor, DeliveryUncertain
from airlock_celery.connections import acquire_producer, flush_connection, flush_pool

QUEUE = "celery_frozen"
#: How long the harness lets a flush run before calling it stuck (the flush's
#: own bound is 0.5 s per wait; a regression would wait forever).
JOIN_LIMIT = 60.0
KOMBU_BATCHES = hasattr(Producer, "batch")


class RedisServer:
    """A redis-server process of the test's own, on a free loopback port."""

    def __init__(self, directory: str) -> None:
        with socket.create_server(("127.0.0.1", 0)) as probe:
            self.port = probe.getsockname()[1]
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not on PATH"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", directory],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def freeze(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def stop(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)
        self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture
def own_redis(tmp_path) -> Iterator[RedisServer]:
    server = RedisServer(str(tmp_path))
    yield server
    server.stop()


def flush_in_thread(fill, executor) -> airlock.DispatchError:
    """Flush a scope in a thread; return its DispatchError, or fail if it is still blocked."""
    outcome: list[BaseException | None] = []
    scopes: list[airlock.Scope] = []

    def run() -> None:
        try:
            with airlock.scope(executor=executor) as scope:
                scopes.append(scope)
                fill()
        except BaseException as exc:
            outcome.append(exc)
        else:
            outcome.append(None)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(JOIN_LIMIT)
    if thread.is_alive():
        pytest.fail(f"the flush was still blocked on the frozen broker after {JOIN_LIMIT} s")
    (error,) = outcome
    assert isinstance(error, airlock.DispatchError), error
    assert list(error.dispatched) + [i for i, _ in error.failed] + list(error.pending) == list(
        scopes[0].intents
    )
    return error


def enqueue_records(app, count: int) -> None:
    record = app.tasks["airlock_tests.record"]
    for number in range(count):
        airlock.enqueue(record, "frozen", number, _dispatch_options={"queue": QUEUE})


def test_a_frozen_redis_fails_the_flush_with_every_intent_accounted_for(own_redis, observe_url):
    app = make_app(own_redis.url, observe_url, name="airlock_celery_frozen_redis")
    app.conf.broker_connection_timeout = 0.5  # stands in for the unset socket timeouts
    app.conf.task_publish_retry_policy = {"max_retries": 1, "interval_start": 0}
    executor = CeleryExecutor(batch_size=10)
    try:
        with airlock.scope(executor=executor):  # a pooled connection, as in a live process
            enqueue_records(app, 1)
        own_redis.freeze()
        error = flush_in_thread(lambda: enqueue_records(app, 25), executor)
        assert error.dispatched == []
        # What was handed to the broker (at most the first batch: one pipeline,
        # or one message where kombu has no batches) may have been stored.
        # The rest never left.
        assert 1 <= len(error.failed) <= (10 if KOMBU_BATCHES else 1)
        assert all(isinstance(cause, DeliveryUncertain) for _, cause in error.failed)
        assert len(error.pending) == 25 - len(error.failed)
    finally:
        app.close()


def test_a_redis_frozen_before_the_first_flush_fails_it_too(own_redis, observe_url):
    app = make_app(own_redis.url, observe_url, name="airlock_celery_frozen_redis_cold")
    app.conf.broker_transport_options = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
    app.conf.broker_connection_timeout = 0.5  # kombu retries a connection for this long
    app.conf.task_publish_retry_policy = {"max_retries": 1, "interval_start": 0}
    own_redis.freeze()
    try:
        error = flush_in_thread(lambda: enqueue_records(app, 5), CeleryExecutor())
        assert error.dispatched == []
        assert len(error.failed) >= 1
        assert len(error.failed) + len(error.pending) == 5
    finally:
        app.close()


def test_a_frozen_rabbitmq_fails_the_confirm_wait(amqp_url, observe_url):
    target = urlsplit(amqp_url)
    proxy = FreezingProxy((target.hostname, target.port))
    proxied = target._replace(netloc=f"{target.username}:{target.password}@127.0.0.1:{proxy.port}")
    app = make_app(proxied.geturl(), observe_url, name="airlock_celery_frozen_amqp")
    app.conf.broker_connection_timeout = 0.5
    app.conf.task_publish_retry_policy = {"max_retries": 1, "interval_start": 0}
    executor = CeleryExecutor(batch_size=2)
    try:
        with airlock.scope(executor=executor):
            enqueue_records(app, 1)
        proxy.arm()  # the broker stops answering at the next publish
        error = flush_in_thread(lambda: enqueue_records(app, 5), executor)
        assert proxy.frozen.is_set()
        assert error.dispatched == []
        assert len(error.failed) == 2  # published, never confirmed: the first batch
        for _, cause in error.failed:
            assert isinstance(cause, DeliveryUncertain)
            assert isinstance(cause.__cause__, TimeoutError)
        assert len(error.pending) == 3
    finally:
        proxy.close()
        app.close()
        _delete_queue(amqp_url)


@pytest.mark.parametrize("broker", ["redis", "amqp"])
def test_the_bounds_come_from_celerys_settings(broker, redis_url, amqp_url, observe_url):
    url = redis_url if broker == "redis" else amqp_url
    names = (
        ("socket_timeout", "socket_connect_timeout")
        if broker == "redis"
        else ("read_timeout", "write_timeout")
    )
    defaults = make_app(url, observe_url, name=f"airlock_celery_bounds_{broker}")
    defaults.conf.broker_connection_timeout = 7.0
    chosen = make_app(url, observe_url, name=f"airlock_celery_bounds_{broker}_set")
    chosen.conf.broker_transport_options = {names[0]: 1.5, "max_retries": 2}
    chosen.conf.broker_pool_acquire_timeout = 2.5
    try:
        assert {n: flush_connection(defaults).transport_options[n] for n in names} == {
            names[0]: 7.0,
            names[1]: 7.0,
        }
        assert flush_pool(defaults).acquire_timeout == 7.0
        options = flush_connection(chosen).transport_options
        assert (options[names[0]], options[names[1]], options["max_retries"]) == (1.5, 4.0, 2)
        assert flush_pool(chosen).acquire_timeout == 2.5
    finally:
        defaults.close()
        chosen.close()


def test_a_flush_waiting_for_a_pooled_connection_gives_up(broker_redis_url, observe_url):
    app = make_app(broker_redis_url, observe_url, name="airlock_celery_pool_wait")
    app.conf.broker_pool_limit = 1
    app.conf.broker_pool_acquire_timeout = 0.2
    try:
        with acquire_producer(app):  # the pool's only connection is taken
            error = flush_in_thread(lambda: enqueue_records(app, 3), CeleryExecutor())
        assert error.dispatched == []
        ((_, cause),) = error.failed
        assert isinstance(cause, OperationalError)
        assert "broker_pool_limit" in str(cause)
        assert len(error.pending) == 2
        with airlock.scope(executor=CeleryExecutor()):  # free again
            enqueue_records(app, 1)
    finally:
        app.close()


def _delete_queue(amqp_url: str) -> None:
    from kombu import Connection

    with Connection(amqp_url) as connection:
        connection.default_channel.queue_delete(QUEUE)
