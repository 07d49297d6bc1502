"""Every example of docs/durability.md (docs/examples/outbox/) runs here, on PostgreSQL.

The settings example publishes through Celery to this suite's Redis database; with no
worker consuming, the test reads the messages off the queue and checks their ids.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.db import connections, transaction
from django.db.models.signals import post_save
from django.test import Client, override_settings
from shop.models import Effect, Order

from airlock_django.models import OutboxMessage

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "observer"]),
    pytest.mark.redis,
    pytest.mark.postgres,
]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
EXAMPLES = ROOT / "docs" / "examples" / "outbox"
DOC = ROOT / "docs" / "durability.md"
QUEUE = f"outbox_docs_{os.environ.get('AIRLOCK_TEST_STACK', 'local')}"


def example_settings() -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec((EXAMPLES / "settings_outbox.py").read_text(), namespace)
    return namespace["AIRLOCK"]  # type: ignore[no-any-return]


@pytest.fixture
def celery_queue(redis_url: str) -> Iterator[redis.Redis]:
    """The docs' settings, publishing to a queue of this suite's Redis database (5)."""
    import shop_project.celery  # noqa: F401  (the project's Celery app, as its __init__ loads it)

    client = redis.Redis.from_url(os.environ["AIRTEST_BROKER_URL"])
    client.delete(QUEUE)
    with override_settings(AIRLOCK=example_settings(), CELERY_TASK_DEFAULT_QUEUE=QUEUE):
        from celery import current_app

        current_app.conf.task_default_queue = QUEUE
        yield client
    current_app.conf.task_default_queue = os.environ.get("AIRTEST_QUEUE", "django_tests")
    client.delete(QUEUE)


def published(client: redis.Redis) -> list[tuple[str, str]]:
    """(task name, task id) of each message waiting in the queue, oldest first."""
    messages = [json.loads(raw) for raw in reversed(client.lrange(QUEUE, 0, -1))]
    return [(m["headers"]["task"], m["headers"]["id"]) for m in messages]


def test_every_example_file_is_included_in_the_page() -> None:
    page = DOC.read_text()
    for example in sorted(EXAMPLES.iterdir()):
        assert f"docs/examples/outbox/{example.name}" in page, example.name


def test_settings_checkout_publishes_after_commit_with_the_row_ids(
    celery_queue: redis.Redis,
) -> None:
    from checkout_outbox import checkout

    import airlock
    from airlock_django.outbox import OutboxScope

    with airlock.scope() as scope:
        pass
    assert type(scope) is OutboxScope

    with airlock.scope():  # the request's scope, as AirlockMiddleware opens it
        order = checkout("ada", 1200)
        # the rows went with the COMMIT inside checkout(), not at the end of the request
        assert len(published(celery_queue)) == 2
    rows = list(OutboxMessage.objects.order_by("id"))
    assert [r.task for r in rows] == ["shop.tasks.notify_warehouse", "shop.tasks.send_confirmation"]
    assert {r.get_status_display() for r in rows} == {"delivered"}
    assert json.loads(rows[0].payload)["kwargs"] == {"order_id": order.pk}
    assert published(celery_queue) == [(r.task, str(r.intent_id)) for r in rows]


def test_atomic_requests_make_an_ordinary_view_durable(
    celery_queue: redis.Redis, client: Client
) -> None:
    """The settings of the page, and its view: the rows are in the view's commit."""
    namespace: dict[str, Any] = {}
    exec((EXAMPLES / "settings_atomic_requests.py").read_text(), namespace)
    assert namespace["MIDDLEWARE"][-1] == "airlock.integrations.django.AirlockMiddleware"
    at_commit: list[tuple[int, int]] = []

    def witness(instance: Order, created: bool, **kwargs: Any) -> None:
        def seen() -> None:  # from another connection, right after the COMMIT
            orders = Order.objects.using("observer").filter(pk=instance.pk).count()
            at_commit.append((orders, OutboxMessage.objects.using("observer").count()))

        if created:
            transaction.on_commit(seen)

    connection = connections["default"]
    connection.settings_dict["ATOMIC_REQUESTS"] = namespace["DATABASES"]["default"][
        "ATOMIC_REQUESTS"
    ]
    post_save.connect(witness, sender=Order)
    try:
        with override_settings(AIRLOCK=namespace["AIRLOCK"]):
            response = client.post("/docs/place-order/", {"customer": "ada"})
    finally:
        post_save.disconnect(witness, sender=Order)
        connection.settings_dict["ATOMIC_REQUESTS"] = False
    assert response.status_code == 201
    assert at_commit == [(1, 2)]  # the order and both rows, in one commit
    rows = list(OutboxMessage.objects.order_by("id"))
    assert {r.get_status_display() for r in rows} == {"delivered"}
    assert published(celery_queue) == [(r.task, str(r.intent_id)) for r in rows]


def test_one_durable_path(celery_queue: redis.Redis) -> None:
    from checkout_outbox import refund

    with override_settings(AIRLOCK={**example_settings(), "SCOPE": "django"}):
        order = Order.objects.create(customer="ada", total_cents=1200)
        refund(order)
    (row,) = OutboxMessage.objects.all()
    assert row.task == "shop.tasks.send_confirmation"
    assert published(celery_queue) == [(row.task, str(row.intent_id))]


def test_idempotent_task_acts_once_per_task_id() -> None:
    from idempotent_task import CHARGES, charge_card

    charge_card.apply(args=(7,), task_id="row-1")
    charge_card.apply(args=(7,), task_id="row-1")  # the relay published it again
    charge_card.apply(args=(8,), task_id="row-2")
    assert CHARGES == [7, 8]


def test_health_check_reports_overdue_and_dead_rows(rf: Any) -> None:
    from monitoring import outbox_health

    response = outbox_health(rf.get("/health/outbox"))
    assert response.status_code == 200
    assert json.loads(response.content)["pending"] == 0
    OutboxMessage.objects.create(
        intent_id="00000000-0000-0000-0000-000000000001",
        task="shop.tasks.send_confirmation",
        executor="sync",
        payload='{"args": [], "kwargs": {}, "options": {}}',
        status=OutboxMessage.DEAD,
        enqueued_at="2000-01-01T00:00:00Z",
        next_attempt_at="2000-01-01T00:00:00Z",
    )
    response = outbox_health(rf.get("/health/outbox"))
    assert response.status_code == 503
    assert json.loads(response.content)["dead"] == 1


def relay_commands() -> list[list[str]]:
    commands = []
    for line in (EXAMPLES / "relay.sh").read_text().splitlines():
        words = shlex.split(line, comments=True)
        assert words[:3] == ["python", "manage.py", "airlock_relay"], line
        commands.append(words[3:])
    return commands


@pytest.mark.parametrize("options", relay_commands(), ids=" ".join)
def test_relay_commands_of_the_page_run(options: list[str]) -> None:
    """Each command line of the page, against this project; --loop ones stop on SIGTERM."""
    order = Order.objects.create(customer="ada", total_cents=1)
    OutboxMessage.objects.create(
        intent_id="00000000-0000-0000-0000-000000000002",
        task="shop.tasks.send_confirmation",
        executor="sync",
        payload=json.dumps({"args": [], "kwargs": {"order_id": order.pk}, "options": {}}),
        enqueued_at="2000-01-01T00:00:00Z",
        next_attempt_at="2000-01-01T00:00:00Z",
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "airtest.settings",
        "AIRTEST_DB_NAME": connections["default"].settings_dict["NAME"],
        "AIRTEST_EXECUTOR": "sync",
        "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT / "examples" / "shop")]),
    }
    relay = subprocess.Popen(
        [sys.executable, "-m", "django", "airlock_relay", *options],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        if "--once" in options or "--stats" in options:
            out, err = relay.communicate(timeout=60)
        else:
            deadline = time.monotonic() + 60
            while not Effect.objects.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            relay.send_signal(signal.SIGTERM)
            out, err = relay.communicate(timeout=30)
    finally:
        relay.kill()
    assert relay.returncode == 0, err
    if "--stats" in options:
        assert json.loads(out)["pending"] == 1
        return
    assert list(Effect.objects.values_list("task", "order_id")) == [("send_confirmation", order.pk)]
    assert out.splitlines()[-1].startswith("relayed ")
    assert out.rstrip().endswith("; now 0 pending, 0 dead, 0 rejected")
