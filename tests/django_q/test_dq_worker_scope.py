"""Worker-side scoping: each task a cluster runs is a scope (``scope_tasks``)."""

from __future__ import annotations

import pytest
from conftest import Cluster, logged
from django_q.models import OrmQ, Task
from django_q.signing import SignedPackage
from django_q.tasks import async_task

import airlock
from airlock.plugins import register, unregister

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def queued_effects(key: str) -> list[str]:
    """The keys of the effects of ``key``'s task still waiting on the ORM broker."""
    payloads = (SignedPackage.loads(row.payload) for row in OrmQ.objects.all())
    return [p["args"][0] for p in payloads if str(p["args"][0]).startswith(f"{key}:")]


def test_a_task_s_effects_escape_when_it_succeeds(orm_cluster: Cluster, key: str) -> None:
    async_task("dqapp.tasks.place_order", key, 1)
    assert orm_cluster.wait_for(f"{key}:emails") == ["1"]
    assert orm_cluster.wait_for(f"{key}:warehouse") == ["1"]


def test_a_failed_task_lets_nothing_out(orm_cluster: Cluster, key: str) -> None:
    async_task("dqapp.tasks.place_order", key, 2, True, task_name=key)
    orm_cluster.wait_for_row(key)
    task = Task.objects.get(name=key)
    assert not task.success
    assert "order 2 failed" in task.result
    assert logged(f"{key}:attempts") == ["2"]
    # Effects would have been queued before the monitor saved the failure: none were.
    assert queued_effects(key) == []
    assert logged(f"{key}:emails") == []
    assert logged(f"{key}:warehouse") == []


def test_a_flush_that_fails_fails_the_task(orm_cluster: Cluster, key: str) -> None:
    async_task("dqapp.tasks.unsendable_effect", key, task_name=key)
    orm_cluster.wait_for_row(key)
    task = Task.objects.get(name=key)
    assert logged(f"{key}:ran") == ["yes"]
    assert not task.success
    assert "countdown" in task.result
    assert "DispatchError" in task.result
    assert queued_effects(key) == []
    assert logged(f"{key}:effects") == []


def test_unscoping() -> None:
    import airlock_django_q

    assert airlock_django_q.unscope_tasks() is True
    assert airlock_django_q.unscope_tasks() is False
    airlock_django_q.scope_tasks()


class TestHeaders:
    """A plugin in the enqueuing process: every intent carries this test's headers."""

    def __init__(self, key: str) -> None:
        self.key = key

    @airlock.hookimpl
    def airlock_intent_enqueued(self, intent: airlock.Intent) -> None:
        intent.headers = {**(intent.headers or {}), "x-test-key": self.key, "x-test-value": "v1"}


def test_the_worker_hears_the_headers_the_enqueuer_set(orm_cluster: Cluster, key: str) -> None:
    register(TestHeaders(key), name="test-headers")
    try:
        with airlock.scope(executor="django_q"):
            airlock.enqueue("dqapp.tasks.record", f"{key}:ran", 1)
    finally:
        unregister("test-headers")
    assert orm_cluster.wait_for(f"{key}:ran") == ["1"]
    assert logged(f"{key}:started") == ["dqapp.tasks.record v1"]
