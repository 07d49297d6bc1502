"""The ``huey`` executor against Redis and a real ``huey_consumer``."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import redis
import redis_app
from conftest import Consumer
from huey import RedisHuey

import airlock

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def test_a_huey_task_goes_to_huey_with_no_executor_configured(
    redis_consumer: Consumer, key: str
) -> None:
    with airlock.scope():
        airlock.enqueue(redis_app.record, key, "first")
        airlock.enqueue(redis_app.record, key, "second")
        assert redis_consumer.wait_for(key, 0) == []  # buffered, not sent
    assert redis_consumer.wait_for(key, 2) == ["first", "second"]


def test_string_tasks_by_huey_name_and_by_path(redis_consumer: Consumer, key: str) -> None:
    with airlock.scope(executor="huey"):
        airlock.enqueue("redis_app.record", key, "by path")
        airlock.enqueue("redis_app.renamed", key, "by huey name")
    assert redis_consumer.wait_for(key, 2) == ["by path", "by huey name"]


def test_options_reach_the_consumer(redis_consumer: Consumer, key: str) -> None:
    with airlock.scope():
        airlock.enqueue(
            redis_app.record_task,
            key,
            _dispatch_options={"id": f"{key}-id", "retries": 2, "priority": 5, "expires": 3600},
        )
    assert redis_consumer.wait_for(key) == [f"id={key}-id retries=2 priority=5"]
    assert redis_consumer.wait_for(f"{key}:expires") == ["3600"]
    assert redis_consumer.wait_for(f"{key}:eta") == ["None"]


def test_delay_and_eta_schedule_the_task(redis_consumer: Consumer, key: str) -> None:
    before = datetime.now(timezone.utc).replace(tzinfo=None)
    when = datetime.now(timezone.utc) + timedelta(seconds=1)
    with airlock.scope():
        airlock.enqueue(redis_app.record_task, f"{key}:delay", _dispatch_options={"delay": 1})
        airlock.enqueue(
            redis_app.record_task, f"{key}:td", _dispatch_options={"delay": timedelta(seconds=1)}
        )
        airlock.enqueue(redis_app.record_task, f"{key}:at", _dispatch_options={"eta": when})
    for name in ("delay", "td", "at"):
        [eta] = redis_consumer.wait_for(f"{key}:{name}:eta")
        assert datetime.fromisoformat(eta) >= before + timedelta(seconds=1)
    [at] = redis_consumer.wait_for(f"{key}:at:eta")
    assert datetime.fromisoformat(at) == when.replace(tzinfo=None)  # Huey keeps UTC, naive


def test_arguments_named_like_options_stay_arguments(redis_consumer: Consumer, key: str) -> None:
    with airlock.scope():
        airlock.enqueue(redis_app.takes_options_as_arguments, key, delay=7, id="mine")
    assert redis_consumer.wait_for(key) == ["delay=7 id=mine"]


class CountingConnection(redis.Connection):
    """A Redis connection that counts its writes: one per round trip."""

    writes = 0

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.writes += 1
        super().send_packed_command(command, check_health)


def test_a_flush_is_one_round_trip(huey_redis_url: str) -> None:
    pool = redis.ConnectionPool.from_url(huey_redis_url, connection_class=CountingConnection)
    idle = RedisHuey("airlock_counted", connection_pool=pool)  # no consumer reads it
    idle.flush()

    @idle.task()
    def counted(number: int) -> None:
        """Never run: the test reads the queue."""

    CountingConnection.writes = 0
    with airlock.scope():
        for number in range(50):
            airlock.enqueue(counted, number)
    assert CountingConnection.writes == 1  # MULTI, 50 LPUSH, EXEC: one write
    assert [task.args for task in idle.pending()] == [(n,) for n in range(50)]
    CountingConnection.writes = 0
    for number in range(50):
        counted(number)
    assert CountingConnection.writes == 50  # what the flush saves
    idle.flush()
    counted.unregister()


def test_one_intent_alone_goes_through_huey_enqueue(redis_consumer: Consumer, key: str) -> None:
    from airlock_huey import huey_executor

    huey_executor(airlock.Intent(redis_app.record, (key, "alone")))
    assert redis_consumer.wait_for(key) == ["alone"]
