"""The ``django_q`` executor on the Redis broker and a real ``qcluster`` reading it."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Cluster, logged
from django_q.models import Task
from dqapp import tasks

import airlock

pytestmark = [pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_flush_on_the_redis_broker(redis_cluster: Cluster, redis_broker: Any, key: str) -> None:
    options = {"broker": redis_broker}
    with airlock.scope():
        for number in range(5):
            airlock.enqueue(tasks.record, key, number, _dispatch_options=options)
        assert redis_broker.queue_size() == 0  # buffered, not sent
    assert sorted(redis_cluster.wait_for(key, 5)) == ["0", "1", "2", "3", "4"]


def test_worker_scoping_on_the_redis_cluster(
    redis_cluster: Cluster, redis_broker: Any, key: str
) -> None:
    with airlock.scope():
        airlock.enqueue(tasks.place_order, key, 1, _dispatch_options={"broker": redis_broker})
        airlock.enqueue(
            tasks.place_order,
            key,
            2,
            True,
            _dispatch_options={"broker": redis_broker, "task_name": key},
        )
    redis_cluster.wait_for_row(key)
    assert not Task.objects.get(name=key).success
    assert redis_cluster.wait_for(f"{key}:emails") == ["1"]
    assert redis_cluster.wait_for(f"{key}:warehouse") == ["1"]
    assert sorted(redis_cluster.wait_for(f"{key}:attempts", 2)) == ["1", "2"]
    assert redis_broker.queue_size() == 0
    assert logged(f"{key}:emails") == ["1"]  # order 2 failed: its effects never left
