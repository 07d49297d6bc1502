"""Every example of docs/integrations/django.md (docs/examples/django/*.py) runs here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import django
import pytest
from django.test import Client, override_settings
from shop.models import Effect, Order
from testing_example import (  # noqa: F401  (pytest collects the docs' own tests)
    test_checkout_sends_after_commit,
    test_process_enqueues_the_notifications,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples" / "django"
DOC = ROOT / "docs" / "integrations" / "django.md"


def effects() -> list[tuple[str, int]]:
    return list(Effect.objects.order_by("pk").values_list("task", "order_id"))


def test_every_example_file_is_included_in_the_page() -> None:
    page = DOC.read_text()
    for example in sorted(EXAMPLES.glob("*.py")):
        assert f"docs/examples/django/{example.name}" in page, example.name


def test_celery_settings_pass_airlock_check_and_manage_py_check() -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "settings_celery",
        "PYTHONPATH": os.pathsep.join([str(EXAMPLES), str(ROOT / "examples" / "shop")]),
    }
    checked = subprocess.run(
        [sys.executable, "-m", "airlock", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stderr
    assert "executor=airlock.integrations.executors.celery.celery_executor" in checked.stdout
    assert "scope=DjangoScope" in checked.stdout
    managed = subprocess.run(
        [sys.executable, "-m", "django", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert managed.returncode == 0, managed.stderr


#: Django's own test runner, in a process where importing pytest fails.
RUNNER_WITHOUT_PYTEST = """
import sys
sys.modules["pytest"] = sys.modules["_pytest"] = None
from django.core.management import execute_from_command_line
execute_from_command_line(["django-admin", "test", "testing_testcase", "-v", "2", "--noinput"])
"""


def test_the_testcase_example_passes_under_djangos_runner_without_pytest() -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shop_project.settings",
        "PYTHONPATH": os.pathsep.join([str(EXAMPLES), str(ROOT / "examples" / "shop")]),
    }
    env.pop("AIRLOCK_DEMO_BROKER_URL", None)  # the shop's sync executor
    ran = subprocess.run(
        [sys.executable, "-c", RUNNER_WITHOUT_PYTEST],
        cwd=EXAMPLES,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    assert "Ran 2 tests" in ran.stderr
    assert "\nOK\n" in ran.stderr


@pytest.mark.django_db(transaction=True)
def test_checkout_view_dispatches_after_the_request(client: Client) -> None:
    assert client.post("/docs/checkout/", {"customer": "ada"}).content == b"OK"
    order = Order.objects.get()
    assert effects() == [("send_confirmation", order.pk), ("notify_warehouse", order.pk)]


@pytest.mark.django_db(transaction=True)
def test_scoped_celery_task_uses_django_scope_in_process() -> None:
    from celery_tasks import mark_paid, process_order

    order = Order.objects.create(customer="ada", total_cents=1)
    process_order(order.pk)
    mark_paid(order.pk)
    assert list(Effect.objects.values_list("task", "order_status")) == [
        ("send_notification", "new"),
        ("send_notification", "paid"),
    ]


@pytest.mark.django_db(transaction=True)
def test_rolled_back_rows_notify_nobody() -> None:
    from rollback import import_orders

    import_orders(
        [
            {"customer": "ada", "total_cents": 1},
            {"customer": "duplicate", "total_cents": 2},
            {"customer": "bob", "total_cents": 3},
        ]
    )
    kept = list(Order.objects.order_by("pk").values_list("pk", flat=True))
    assert len(kept) == 2
    assert effects() == [("notify_warehouse", pk) for pk in kept]


@pytest.mark.django_db(transaction=True, databases=["default", "observer", "sqlite"])
def test_scope_using_another_database() -> None:
    from rollback import archive

    archive(41)
    assert Order.objects.using("sqlite").count() == 1
    assert effects() == [("notify_warehouse", 41)]


@pytest.mark.django_db(transaction=True, databases=["default", "observer"])
def test_should_flush_override(client: Client) -> None:
    with override_settings(MIDDLEWARE=["conflict_middleware.FlushOnConflictMiddleware"]):
        assert client.get("/checkout/?status=409").status_code == 409
        assert client.get("/checkout/?status=410").status_code == 410
    from airtest import effects as recorded

    assert recorded.sent() == ["notify_warehouse", "send_confirmation"]


@pytest.mark.skipif(
    django.VERSION < (6, 0),
    reason=f"django.tasks arrived in Django 6.0; this is Django {django.get_version()}",
)
@pytest.mark.django_db(transaction=True)
def test_django_tasks_example() -> None:
    import django_tasks_example as example
    from django.tasks.signals import task_finished

    finished: list[tuple[str, object]] = []

    def record(sender: object, task_result: object, **kwargs: object) -> None:
        finished.append((task_result.task.name, task_result.status))  # type: ignore[attr-defined]

    task_finished.connect(record)
    try:
        with override_settings(AIRLOCK=example.AIRLOCK, TASKS=example.TASKS):
            import airlock

            order = Order.objects.create(customer="ada", total_cents=1)
            with airlock.scope():
                example.checkout(order)
                assert finished == []
    finally:
        task_finished.disconnect(record)
    assert finished == [("send_receipt", "SUCCESSFUL"), ("send_receipt", "SUCCESSFUL")]
