"""The transactional outbox (airlock-django) with the ``django_q`` executor.

A row stores the executor's name and the task's dotted path; the fast path
publishes it after the commit, the relay later. Either way the task reaches
the cluster named after the row (``task_name``, the executor's message id).
"""

from __future__ import annotations

import json
import uuid

import pytest
from conftest import Cluster
from django.utils import timezone
from django_q.models import Task
from dqapp import tasks

import airlock
from airlock_django.models import OutboxMessage
from airlock_django.relay import Relay

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_the_fast_path_publishes_rows_named_after_their_ids(orm_cluster: Cluster, key: str) -> None:
    with airlock.scope(_cls="outbox"):
        airlock.enqueue(tasks.record, key, "function")
        airlock.enqueue("dqapp.tasks.record", key, "dotted path")
    rows = list(OutboxMessage.objects.filter(task="dqapp.tasks.record"))
    assert {row.executor for row in rows} == {"django_q"}
    assert sorted(orm_cluster.wait_for(key, 2)) == ["dotted path", "function"]
    for row in rows:
        orm_cluster.wait_for_row(str(row.intent_id))
    assert {row.status for row in OutboxMessage.objects.all()} == {OutboxMessage.DELIVERED}


def test_the_relay_publishes_a_stored_django_q_row(orm_cluster: Cluster, key: str) -> None:
    row = OutboxMessage.objects.create(
        intent_id=uuid.uuid4(),
        task="dqapp.tasks.record",
        executor="django_q",
        payload=json.dumps({"args": [key, "relayed"], "kwargs": {}, "options": {"group": key}}),
        enqueued_at=timezone.now(),
        next_attempt_at=timezone.now(),
    )
    tally = Relay().drain()
    assert (tally.delivered, tally.failed, tally.rejected) == (1, 0, 0)
    assert orm_cluster.wait_for(key) == ["relayed"]
    orm_cluster.wait_for_row(str(row.intent_id))
    assert Task.objects.get(name=str(row.intent_id)).group == key
