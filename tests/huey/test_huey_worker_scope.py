"""Worker-side scoping: each task the consumer runs is a scope (``scope_tasks``)."""

from __future__ import annotations

from typing import Any

import pytest
import redis_app
from conftest import Consumer
from huey import MemoryHuey
from huey.exceptions import TaskException

import airlock
import airlock_huey

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def test_a_task_s_effects_escape_when_it_succeeds(redis_consumer: Consumer, key: str) -> None:
    redis_app.place_order(key, 1)
    redis_consumer.wait_for(f"{key}:attempts")
    assert redis_consumer.wait_for(f"{key}:emails") == ["1"]
    assert redis_consumer.wait_for(f"{key}:warehouse") == ["1"]


def test_a_failed_task_lets_nothing_out(redis_consumer: Consumer, key: str, logged: Any) -> None:
    result = redis_app.place_order(key, 2, fail=True)
    with pytest.raises(TaskException, match="order 2 failed"):
        result.get(blocking=True, timeout=30)
    redis_consumer.settle(redis_app.huey)
    assert logged(f"{key}:attempts") == ["2"]
    assert logged(f"{key}:emails") == []
    assert logged(f"{key}:warehouse") == []


def test_a_retried_task_leaves_only_the_successful_attempt_s_effects(
    redis_consumer: Consumer, key: str, logged: Any
) -> None:
    redis_app.flaky_order(key)
    assert redis_consumer.wait_for(f"{key}:effects") == ["retry"]
    redis_consumer.settle(redis_app.huey)
    assert logged(f"{key}:effects") == ["retry"]


def test_a_flush_that_fails_fails_the_task(redis_consumer: Consumer, key: str, logged: Any) -> None:
    result = redis_app.unsendable_effect(key)
    with pytest.raises(TaskException, match="countdown"):
        result.get(blocking=True, timeout=30)
    assert logged(f"{key}:ran") == ["yes"]
    redis_consumer.settle(redis_app.huey)
    assert logged(f"{key}:effects") == []


def test_scope_options_and_unscoping() -> None:
    memory = MemoryHuey("airlock_scoping", immediate=True)
    seen: list[airlock.Scope | None] = []

    @memory.task()
    def look() -> None:
        seen.append(airlock.get_current_scope())

    airlock_huey.scope_tasks(memory, policy=airlock.DropAll())
    look()
    scope = seen[-1]
    assert scope is not None
    assert isinstance(scope.policy, airlock.DropAll)
    assert airlock_huey.unscope_tasks(memory) is True
    look()
    assert seen[-1] is None
    assert airlock_huey.unscope_tasks(memory) is False


def test_scope_tasks_takes_a_huey_instance() -> None:
    with pytest.raises(airlock.UsageError, match="takes the Huey instance"):
        airlock_huey.scope_tasks("redis_app.huey")  # type: ignore[arg-type]


def test_each_run_is_announced_to_plugins_without_headers(
    redis_consumer: Consumer, key: str
) -> None:
    with airlock.scope(executor="huey"):
        airlock.enqueue(redis_app.announced, key)
    assert redis_consumer.wait_for(key) == ["('redis_app.announced', {})"]
