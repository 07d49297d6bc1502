"""The row's intent_id is the message's own id: RQ job id, Dramatiq message id, Celery task id.

Each executor publishes to this suite's Redis database (5) with no worker consuming; the
test reads what the broker holds. A row published twice (the fast path, then the relay,
as after a crash between publish and marking) arrives twice under the same id.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import dramatiq
import pytest
import redis
from django.db import transaction
from django.test import override_settings
from dramatiq.brokers.redis import RedisBroker
from rq import Queue
from rq.job import Job

import airlock
import airlock_rq
from airlock_django.models import OutboxMessage
from airlock_django.relay import Relay

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis, pytest.mark.postgres]

STACK = os.environ.get("AIRLOCK_TEST_STACK", "local")
QUEUE = f"outbox_ids_{STACK}"
URL = os.environ["AIRTEST_BROKER_URL"]


def settings(executor: str, tasks: list[str]) -> dict[str, Any]:
    return {"EXECUTOR": executor, "SCOPE": "outbox", "OUTBOX": {"TASKS": tasks}}


def publish_twice() -> list[OutboxMessage]:
    """The fast path publishes; then the row is made due again and the relay publishes it."""
    OutboxMessage.objects.update(
        status=OutboxMessage.PENDING, next_attempt_at="2000-01-01T00:00:00Z"
    )
    assert Relay().drain().delivered == OutboxMessage.objects.count()
    return list(OutboxMessage.objects.order_by("id"))


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(URL)
    yield connection
    connection.delete(*(connection.keys(f"*{QUEUE}*") or ["-"]))


def test_rq_job_id_is_the_intent_id(client: redis.Redis) -> None:
    airlock_rq.configure(connection=client, default_queue=QUEUE)
    with override_settings(AIRLOCK=settings("rq", ["airtest.effects.remember"])):
        from airtest import effects

        with transaction.atomic(), airlock.scope():
            airlock.enqueue(effects.remember, "rq", 1)
        (row,) = OutboxMessage.objects.all()
        job = Job.fetch(str(row.intent_id), connection=client)
        assert (job.func_name, job.args) == ("airtest.effects.remember", ("rq", 1))
        publish_twice()
    assert Queue(QUEUE, connection=client).get_job_ids() == [str(row.intent_id)] * 2


def test_a_scheduled_rq_job_keeps_its_delay_through_the_row(client: redis.Redis) -> None:
    airlock_rq.configure(connection=client, default_queue=QUEUE)
    with override_settings(AIRLOCK=settings("rq", ["airtest.effects.remember"])):
        from airtest import effects

        before = datetime.now(timezone.utc).replace(microsecond=0)
        with transaction.atomic(), airlock.scope():
            airlock.enqueue(
                effects.remember, "rq", 2, _dispatch_options={"enqueue_in": timedelta(hours=1)}
            )
        (row,) = OutboxMessage.objects.all()
        assert json.loads(row.payload)["options"] == {
            "enqueue_in": {"__airlock__": "timedelta", "seconds": 3600.0}
        }
        queue = Queue(QUEUE, connection=client)
        assert queue.count == 0
        assert queue.scheduled_job_registry.get_job_ids() == [str(row.intent_id)]
        due = queue.scheduled_job_registry.get_scheduled_time(str(row.intent_id))
        assert before + timedelta(hours=1) <= due <= datetime.now(timezone.utc) + timedelta(hours=1)
        publish_twice()  # the relay schedules it again, under the same id
    assert queue.count == 0
    assert queue.scheduled_job_registry.get_job_ids() == [str(row.intent_id)]


@pytest.fixture
def dramatiq_broker(client: redis.Redis) -> Iterator[RedisBroker]:
    previous = dramatiq.get_broker()
    broker = RedisBroker(url=URL, namespace=f"dramatiq-{QUEUE}")
    dramatiq.set_broker(broker)
    yield broker
    dramatiq.set_broker(previous)


def test_dramatiq_message_id_is_the_intent_id(
    client: redis.Redis, dramatiq_broker: RedisBroker
) -> None:
    @dramatiq.actor(actor_name=f"record_{STACK}", queue_name=QUEUE, broker=dramatiq_broker)
    def record(label: str) -> None:
        raise AssertionError("no worker runs in this test")

    with override_settings(AIRLOCK=settings("dramatiq", [])):
        with transaction.atomic(), airlock.scope():
            airlock.enqueue(record, "dramatiq")
        (row,) = OutboxMessage.objects.all()
        assert row.task == f"record_{STACK}"  # found on the broker by actor name
        publish_twice()
    # the Redis broker keys each copy by its own redis_message_id; the message id is ours
    stored = client.hgetall(f"dramatiq-{QUEUE}:{QUEUE}.msgs").values()
    messages = [json.loads(raw) for raw in stored]
    assert [m["message_id"] for m in messages] == [str(row.intent_id)] * 2
    assert [m["args"] for m in messages] == [["dramatiq"]] * 2


def test_celery_task_id_is_the_intent_id(client: redis.Redis) -> None:
    import shop_project.celery  # noqa: F401  (the project's Celery app)
    from shop.tasks import send_confirmation

    with override_settings(AIRLOCK=settings("celery", [])):
        with transaction.atomic(), airlock.scope():
            airlock.enqueue(send_confirmation, _dispatch_options={"queue": QUEUE}, order_id=1)
        publish_twice()
    (row,) = OutboxMessage.objects.all()
    messages = [json.loads(raw) for raw in client.lrange(QUEUE, 0, -1)]
    assert [m["headers"]["id"] for m in messages] == [str(row.intent_id)] * 2
    assert {m["headers"]["task"] for m in messages} == {"shop.tasks.send_confirmation"}


@pytest.mark.parametrize(
    ("options", "kwargs", "error"),
    [
        ({"countdown": "soon"}, {"order_id": 1}, "TypeError: '<' not supported"),
        ({"expires": "never"}, {"order_id": 1}, "ValueError: "),
        ({"compression": "nope"}, {"order_id": 1}, "KeyError: 'nope'"),
    ],
    ids=["countdown", "expires", "compression"],
)
def test_an_argument_celery_refuses_makes_the_row_dead_at_once(
    client: redis.Redis, options: dict[str, Any], kwargs: dict[str, Any], error: str
) -> None:
    """Refused by the broker client itself: no retry can help, so no backoff either."""
    import shop_project.celery  # noqa: F401  (the project's Celery app)
    from shop.tasks import send_confirmation

    with override_settings(AIRLOCK=settings("celery", [])), transaction.atomic(), airlock.scope():
        airlock.enqueue(send_confirmation, _dispatch_options={**options, "queue": QUEUE}, **kwargs)
        airlock.enqueue(send_confirmation, _dispatch_options={"queue": QUEUE}, order_id=2)
    refused, sent = OutboxMessage.objects.order_by("id")
    assert (refused.get_status_display(), refused.attempts) == ("dead", 1)
    assert refused.last_error.startswith("permanent failure, not retried: ")
    assert error in refused.last_error
    assert (sent.get_status_display(), sent.attempts) == ("delivered", 1)
    messages = [json.loads(raw) for raw in client.lrange(QUEUE, 0, -1)]
    assert [m["headers"]["id"] for m in messages] == [str(sent.intent_id)]
