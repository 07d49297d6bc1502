"""A real Celery worker runs @airlock.scoped() tasks of the Django project (PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.db import connections
from shop.models import Effect, Order

import airlock

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
REDIS_DB = 5
WAIT = 60.0
# One queue and one events list per stack, so that stacks may run side by side.
STACK = os.environ.get("AIRLOCK_TEST_STACK", "local")
QUEUE = f"django_tests_{STACK}"
EVENTS_KEY = f"django_airtest_events_{STACK}"


class Events:
    """The worker's reports (airtest.probe), read with a bounded wait."""

    def __init__(self, client: redis.Redis, key: str, worker: subprocess.Popen[bytes]) -> None:
        self.client = client
        self.key = key
        self.worker = worker

    def read(self) -> list[str]:
        return [e.decode() for e in self.client.lrange(self.key, 0, -1)]

    def wait_for(self, last: str) -> list[str]:
        deadline = time.monotonic() + WAIT
        while True:
            events = self.read()
            if last in events:
                self.client.delete(self.key)
                return events
            if self.worker.poll() is not None:
                pytest.fail(f"the Celery worker exited ({self.worker.returncode}); events {events}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {last!r} from the worker within {WAIT}s; events {events}")
            time.sleep(0.05)


@pytest.fixture(scope="module")
def broker_url(redis_url: str) -> str:
    """Redis database 5; conftest points the project's CELERY_BROKER_URL at it too."""
    url = redis_url.rsplit("/", 1)[0] + f"/{REDIS_DB}"
    assert os.environ["AIRTEST_BROKER_URL"] == url
    return url


@pytest.fixture(scope="module")
def events(
    broker_url: str, django_db_setup: None, django_db_blocker: pytest.FixtureRequest
) -> Iterator[Events]:
    client = redis.Redis.from_url(broker_url)
    client.delete(EVENTS_KEY, QUEUE)  # whatever an interrupted run left behind
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "airtest.settings",
        "AIRTEST_DB_NAME": connections["default"].settings_dict["NAME"],
        "AIRTEST_BROKER_URL": broker_url,
        "AIRTEST_QUEUE": QUEUE,
        "AIRTEST_EXECUTOR": "celery",
        "AIRTEST_EVENTS_URL": broker_url,
        "AIRTEST_EVENTS_KEY": EVENTS_KEY,
        "PYTHONPATH": os.pathsep.join(
            [str(HERE), str(ROOT / "examples" / "shop"), str(ROOT / "docs" / "examples" / "django")]
        ),
    }
    worker = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "shop_project", "--quiet", "worker",
            "--pool=solo", "--loglevel=WARNING", "--without-heartbeat", "--without-gossip",
            "--without-mingle", "--queues", QUEUE,
            "--include", "airtest.probe,celery_tasks,airtest.worker_tasks",
        ],
        env=env,
        cwd=HERE,
    )  # fmt: skip
    try:
        yield Events(client, EVENTS_KEY, worker)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        client.delete(EVENTS_KEY, QUEUE)


def send(task: object, order_id: int) -> None:
    """Hand the task to the worker through airlock's Celery executor."""
    with airlock.scope(executor="celery"):
        airlock.enqueue(task, order_id, _dispatch_options={"queue": QUEUE})


@pytest.mark.django_db(transaction=True)
def test_scoped_task_publishes_only_after_its_transaction_commits(events: Events) -> None:
    from celery_tasks import mark_paid

    order = Order.objects.create(customer="ada", total_cents=100)
    send(mark_paid, order.pk)
    assert events.wait_for("finished send_notification SUCCESS") == [
        "published send_notification in_transaction=False",
        "finished mark_paid SUCCESS",
        "finished send_notification SUCCESS",
    ]
    effect = Effect.objects.get()
    assert (effect.task, effect.order_id, effect.order_status) == (
        "send_notification",
        order.pk,
        "paid",
    )
    assert effect.ran_in.startswith("worker pid ")


@pytest.mark.django_db(transaction=True)
def test_docs_process_order_task_runs_on_the_worker(events: Events) -> None:
    from celery_tasks import process_order

    order = Order.objects.create(customer="bob", total_cents=100)
    send(process_order, order.pk)
    assert events.wait_for("finished send_notification SUCCESS") == [
        "published send_notification in_transaction=False",
        "finished process_order SUCCESS",
        "finished send_notification SUCCESS",
    ]
    assert Effect.objects.get().order_id == order.pk


@pytest.mark.django_db(transaction=True)
def test_rolled_back_task_publishes_nothing(events: Events) -> None:
    from airtest.worker_tasks import mark_paid_then_fail

    order = Order.objects.create(customer="eve", total_cents=100)
    send(mark_paid_then_fail, order.pk)
    assert events.wait_for("finished mark_paid_then_fail FAILURE") == [
        "finished mark_paid_then_fail FAILURE"
    ]
    order.refresh_from_db()
    assert order.status == "new"
    assert not Effect.objects.exists()
