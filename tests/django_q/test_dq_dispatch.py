"""The ``django_q`` executor on the ORM broker (PostgreSQL) and a real ``qcluster``."""

from __future__ import annotations

import pytest
from conftest import Cluster
from django_q.models import OrmQ, Task
from dqapp import tasks

import airlock

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def saved(name: str, cluster: Cluster) -> Task:
    """The cluster's record of the task called ``name``, once the monitor saved it."""
    cluster.wait_for_row(name)
    return Task.objects.get(name=name)


def test_functions_and_dotted_paths_reach_the_cluster(orm_cluster: Cluster, key: str) -> None:
    with airlock.scope():  # AIRLOCK = {"EXECUTOR": "django_q"}
        airlock.enqueue(tasks.record, key, "function")
        airlock.enqueue("dqapp.tasks.record", key, "dotted path")
        assert OrmQ.objects.filter(key="airlock_dq").count() == 0  # buffered, not sent
    assert sorted(orm_cluster.wait_for(key, 2)) == ["dotted path", "function"]


def test_options_reach_django_q(orm_cluster: Cluster, key: str) -> None:
    with airlock.scope():
        airlock.enqueue(
            tasks.record,
            key,
            1,
            _dispatch_options={"task_name": f"{key}-name", "q_options": {"group": "welcome"}},
        )
    orm_cluster.wait_for(key)
    task = saved(f"{key}-name", orm_cluster)
    assert (task.group, task.success, task.func) == ("welcome", True, "dqapp.tasks.record")


def test_arguments_named_like_options_stay_arguments(orm_cluster: Cluster, key: str) -> None:
    with airlock.scope():
        airlock.enqueue(
            tasks.takes_options_as_arguments,
            key,
            group="mine",
            timeout=5,
            _dispatch_options={"group": "real", "timeout": 10, "task_name": key},
        )
    assert orm_cluster.wait_for(key) == ["group=mine timeout=5"]
    assert saved(key, orm_cluster).group == "real"
