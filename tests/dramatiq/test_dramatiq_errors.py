"""Bad input fails the intent it concerns, with a clear error, and loses nothing."""

from __future__ import annotations

import socket
import threading
from typing import Any

import dramatiq
import pytest
from conftest import App
from dramatiq.brokers.redis import RedisBroker

import airlock
import airlock_dramatiq


def flush(*calls: tuple[Any, tuple[Any, ...], Any], **scope_kwargs: Any) -> None:
    """Enqueue each (task, args, dispatch options) in a dramatiq scope, then flush."""
    with airlock.scope(executor="dramatiq", **scope_kwargs):
        for task, args, options in calls:
            airlock.enqueue(task, *args, _dispatch_options=options)


def test_unknown_option_fails_that_intent_and_keeps_the_rest(app: App) -> None:
    record = app.record
    with pytest.raises(airlock.DispatchError) as caught:
        flush(
            (record, ("opt", 1), None),
            (record, ("opt", 2), {"countdown": 5}),
            (record, ("opt", 3), None),
        )
    error = caught.value
    assert [i.args for i in error.dispatched] == [("opt", 1)]
    [(intent, exc)] = error.failed
    assert intent.args == ("opt", 2)
    assert isinstance(exc, airlock.UsageError)
    assert "'countdown'" in str(exc)
    assert "max_retries" in str(exc)
    assert [i.args for i in error.pending] == [("opt", 3)]
    assert app.wait_for("opt") == ["1"]


@pytest.mark.parametrize("option", ["queue_name", "queue"])
def test_queue_options_point_at_the_actor(app: App, option: str) -> None:
    with pytest.raises(airlock.DispatchError) as caught:
        flush((app.record, ("q", 1), {option: "elsewhere"}))
    assert "@dramatiq.actor(queue_name=...)" in str(caught.value.failed[0][1])


def test_a_bad_delay(app: App) -> None:
    with pytest.raises(airlock.DispatchError) as caught:
        flush((app.record, ("d", 1), {"delay": "soon"}))
    assert "milliseconds" in str(caught.value.failed[0][1])


def test_arguments_the_encoder_cannot_serialize(app: App) -> None:
    record = app.record
    with pytest.raises(airlock.DispatchError) as caught:
        flush(
            (record, ("ser", 1), None),
            (record, ("ser", threading.Lock()), None),
            (record, ("ser", 3), None),
        )
    error = caught.value
    assert [i.args[1] for i in error.dispatched] == [1]
    [(_, exc)] = error.failed
    assert isinstance(exc, TypeError)
    assert "JSON serializable" in str(exc)
    assert [i.args[1] for i in error.pending] == [3]
    assert app.wait_for("ser") == ["1"]


@pytest.mark.parametrize(
    ("third", "error_type", "message"),
    [
        ((("five", threading.Lock()), None), TypeError, "JSON serializable"),
        ((("five", 3), {"countdown": 5}), airlock.UsageError, "unknown Dramatiq option"),
        ((("five", 3), {"on_success": 42}), TypeError, "on_success value must be an Actor"),
    ],
    ids=["unserializable-argument", "unknown-option", "bad-option-value"],
)
def test_the_third_of_five_fails(
    app: App, third: tuple[tuple[Any, ...], Any], error_type: type[Exception], message: str
) -> None:
    record = app.record
    args, options = third
    calls = [(record, ("five", n), None) for n in (1, 2)]
    calls += [(record, args, options)]
    calls += [(record, ("five", n), None) for n in (4, 5)]
    with pytest.raises(airlock.DispatchError) as caught:
        flush(*calls)
    error = caught.value
    assert [i.args for i in error.dispatched] == [("five", 1), ("five", 2)]
    [(intent, exc)] = error.failed
    assert intent.args == args
    assert isinstance(exc, error_type)
    assert message in str(exc)
    assert [i.args for i in error.pending] == [("five", 4), ("five", 5)]
    assert caught.value.__cause__ is exc
    app.record.send("sentinel", 1)
    app.wait_for("sentinel")
    app.drain()
    assert sorted(app.results("five")) == ["1", "2"]


def test_continue_mode_sends_everything_else(app: App) -> None:
    record = app.record
    with pytest.raises(airlock.DispatchError) as caught:
        flush(
            (record, ("cont", 1), None),
            (record, ("cont", threading.Lock()), None),
            (record, ("cont", 3), None),
            on_dispatch_error="continue",
        )
    assert len(caught.value.dispatched) == 2
    assert len(caught.value.failed) == 1
    assert caught.value.pending == []
    assert sorted(app.wait_for("cont", 2)) == ["1", "3"]


def test_a_plain_function_fails_and_the_rest_waits(app: App) -> None:
    def plain(key: str, value: int) -> None:
        """Not an actor: the dramatiq executor never runs it here."""
        app.record.send(key, f"ran here {value}")

    with pytest.raises(airlock.DispatchError) as caught:
        flush(
            (app.record, ("plain", 1), None),
            (plain, ("plain", 2), None),
            (app.record, ("plain", 3), None),
        )
    error = caught.value
    assert [i.args for i in error.dispatched] == [("plain", 1)]
    [(intent, exc)] = error.failed
    assert intent.task is plain
    assert isinstance(exc, airlock.UsageError)
    assert "Decorate it with @dramatiq.actor" in str(exc)
    assert [i.args for i in error.pending] == [("plain", 3)]
    app.record.send("sentinel", 1)
    app.wait_for("sentinel")
    app.drain()
    assert app.results("plain") == ["1"]


def test_tasks_that_are_not_actors(redis_app: App) -> None:
    def plain(value: int) -> None:
        """Not an actor."""

    with pytest.raises(airlock.DispatchError) as caught:
        flush(
            (plain, (1,), None),
            ("no_such_actor", (), None),
            ("tests.nowhere.actor", (), None),
            on_dispatch_error="continue",
        )
    messages = [str(exc) for _, exc in caught.value.failed]
    assert "Decorate it with @dramatiq.actor" in messages[0]
    assert "neither an actor" in messages[1]
    assert "neither an actor" in messages[2]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_redis_down_at_flush_reports_every_intent(redis_app: App) -> None:
    down = RedisBroker(url=f"redis://127.0.0.1:{_closed_port()}/3", namespace="dramatiq_down")

    @dramatiq.actor(broker=down, queue_name="dramatiq_down")
    def unreachable(n: int) -> None:
        """Declared on a broker whose Redis is not there."""

    with pytest.raises(airlock.DispatchError) as caught:
        flush(*[(unreachable, (n,), None) for n in range(3)])
    error = caught.value
    assert error.dispatched == []
    # One pipeline for the three; it failed, so their delivery is uncertain: all failed.
    assert [i.args[0] for i, _ in error.failed] == [0, 1, 2]
    assert all("Connection" in type(exc).__name__ for _, exc in error.failed)
    assert error.pending == []
    with pytest.raises(Exception, match="Connection"):
        airlock_dramatiq.dramatiq_executor(airlock.Intent(unreachable, (9,)))


def test_a_broker_down_mid_flush(redis_app: App) -> None:
    down = RedisBroker(url=f"redis://127.0.0.1:{_closed_port()}/3", namespace="dramatiq_down")

    @dramatiq.actor(broker=down, queue_name="dramatiq_down")
    def unreachable(key: str, n: int) -> None:
        """Declared on a broker whose Redis is not there."""

    record = redis_app.record
    with pytest.raises(airlock.DispatchError) as caught:
        flush(
            (record, ("mixed", 1), None),
            (record, ("mixed", 2), None),
            (unreachable, ("mixed", 3), None),
            (unreachable, ("mixed", 4), None),
            (record, ("mixed", 5), None),
        )
    error = caught.value
    assert [i.args[1] for i in error.dispatched] == [1, 2]
    assert [i.args[1] for i, _ in error.failed] == [3, 4]
    assert all("Connection" in type(exc).__name__ for _, exc in error.failed)
    assert [i.args[1] for i in error.pending] == [5]
    redis_app.record.send("sentinel", 1)
    redis_app.wait_for("sentinel")
    redis_app.drain()
    assert sorted(redis_app.results("mixed")) == ["1", "2"]


@pytest.mark.rabbitmq
def test_rabbitmq_down_at_flush_reports_every_intent(rabbit_app: App) -> None:
    from dramatiq.brokers.rabbitmq import RabbitmqBroker

    down = RabbitmqBroker(url=f"amqp://guest:guest@127.0.0.1:{_closed_port()}/%2F")

    @dramatiq.actor(broker=down, queue_name="dramatiq_down")
    def unreachable(n: int) -> None:
        """Declared on a broker whose RabbitMQ is not there."""

    with pytest.raises(airlock.DispatchError) as caught:
        flush(*[(unreachable, (n,), None) for n in range(3)])
    error = caught.value
    assert error.dispatched == []
    assert [i.args[0] for i, _ in error.failed] == [0]
    assert [i.args[0] for i in error.pending] == [1, 2]
