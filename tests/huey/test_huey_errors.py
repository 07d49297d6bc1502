"""Bad input and a storage that is down: a clear error, every intent accounted for."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from huey import MemoryHuey, RedisHuey

import airlock

pytestmark = pytest.mark.redis


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def flush(*calls: tuple[Any, tuple[Any, ...], dict[str, Any] | None], **scope: Any) -> None:
    """Enqueue each ``(task, args, options)`` in one scope, which flushes at its end."""
    with airlock.scope(**scope):
        for task, args, options in calls:
            airlock.enqueue(task, *args, _dispatch_options=options)


@pytest.fixture
def idle_huey(huey_redis_url: str) -> RedisHuey:
    """A Huey no consumer reads: its queue shows exactly what a flush sent."""
    huey = RedisHuey("airlock_idle", url=huey_redis_url)
    huey.flush()
    return huey


@pytest.fixture
def tasks(idle_huey: RedisHuey) -> Iterator[Any]:
    @idle_huey.task(name="queued")
    def queued(value: object) -> None:
        """A task of the idle Huey."""

    yield queued
    queued.unregister()


def pending_values(huey: RedisHuey) -> list[object]:
    return [task.args[0] for task in huey.pending()]


def test_a_callable_that_is_not_a_huey_task(tasks: Any) -> None:
    def plain(value: object) -> None:
        """Not a Huey task."""

    with pytest.raises(airlock.DispatchError) as caught:
        flush(
            (tasks, (1,), None),
            (plain, (2,), None),
            (tasks, (3,), None),
            executor="huey",
        )
    error = caught.value
    assert [i.args for i in error.dispatched] == [(1,)]
    [(intent, reason)] = error.failed
    assert intent.task is plain
    assert isinstance(reason, airlock.UsageError)
    assert "@huey.task()" in str(reason)
    assert "executor='sync'" in str(reason)
    assert [i.args for i in error.pending] == [(3,)]
    assert pending_values(tasks.huey) == [1]


def test_an_unknown_option_names_the_valid_ones(tasks: Any) -> None:
    with pytest.raises(airlock.DispatchError) as caught:
        flush(
            (tasks, (1,), None),
            (tasks, (2,), {"countdown": 5}),
            (tasks, (3,), None),
        )
    [(_, reason)] = caught.value.failed
    assert isinstance(reason, airlock.UsageError)
    assert "'countdown'" in str(reason)
    assert "delay" in str(reason)
    assert "retries" in str(reason)
    assert [i.args for i in caught.value.pending] == [(3,)]
    assert pending_values(tasks.huey) == [1]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"delay": "soon"}, "'delay' must be a number of seconds or a timedelta"),
        ({"delay": -1}, "'delay' must be"),
        ({"eta": "2030-01-01"}, "'eta' must be a datetime"),
        ({"eta": datetime(2030, 1, 1), "delay": 5}, "not both"),
        ({"retries": 1.5}, "'retries' must be a number of retries"),
        ({"id": ""}, "'id' must be a non-empty string"),
        ({"priority": 1}, "RedisStorage keeps no task priorities"),
    ],
)
def test_bad_option_values(tasks: Any, options: dict[str, object], message: str) -> None:
    with pytest.raises(airlock.DispatchError) as caught:
        flush(
            (tasks, (1,), options),
        )
    [(_, reason)] = caught.value.failed
    assert isinstance(reason, airlock.UsageError)
    assert message in str(reason)
    assert pending_values(tasks.huey) == []


def test_an_unknown_task_name(tasks: Any) -> None:
    with pytest.raises(airlock.DispatchError) as caught:
        flush(
            ("test_huey_errors.missing", (1,), None),
            executor="huey",
        )
    [(_, reason)] = caught.value.failed
    assert isinstance(reason, airlock.UsageError)
    assert "names no Huey task" in str(reason)


def test_arguments_huey_cannot_serialize_stop_the_run_there(tasks: Any) -> None:
    with pytest.raises(airlock.DispatchError) as caught:
        flush(
            (tasks, (1,), None),
            (tasks, (2,), None),
            (tasks, (lambda: None,), None),
            (tasks, (4,), None),
        )
    error = caught.value
    assert [i.args for i in error.dispatched] == [(1,), (2,)]
    [(intent, reason)] = error.failed
    assert callable(intent.args[0])
    assert not isinstance(reason, airlock.UsageError)
    assert [i.args for i in error.pending] == [(4,)]
    assert pending_values(tasks.huey) == [1, 2]  # the run before it went out, in order


def test_redis_down_fails_the_whole_run() -> None:
    down = RedisHuey("airlock_down", url=f"redis://127.0.0.1:{closed_port()}/0")

    @down.task()
    def lost(value: object) -> None:
        """Its storage does not answer."""

    with pytest.raises(airlock.DispatchError) as caught:
        flush(
            (lost, (1,), None),
            (lost, (2,), None),
        )
    error = caught.value
    assert error.dispatched == []
    assert error.pending == []
    assert [i.args for i, _ in error.failed] == [(1,), (2,)]
    assert all("Connection" in type(reason).__name__ for _, reason in error.failed)


def test_redis_down_for_one_intent_alone() -> None:
    down = RedisHuey("airlock_down", url=f"redis://127.0.0.1:{closed_port()}/0")

    @down.task()
    def lost(value: object) -> None:
        """Its storage does not answer."""

    from airlock_huey import huey_executor

    with pytest.raises(Exception, match=r"(?i)connect"):
        huey_executor(airlock.Intent(lost, (1,)))


def test_a_run_changes_at_each_huey_instance_and_at_each_unpipelined_task(tasks: Any) -> None:
    memory = MemoryHuey("airlock_memory")

    @memory.task()
    def in_memory(value: object) -> None:
        """A task of a Huey that keeps its queue in memory (one enqueue each)."""

    with airlock.scope():
        airlock.enqueue(tasks, 1)
        airlock.enqueue(in_memory, "a")
        airlock.enqueue(tasks, 2)
        airlock.enqueue(in_memory, "b")
    assert pending_values(tasks.huey) == [1, 2]
    assert [task.args[0] for task in memory.pending()] == ["a", "b"]
