"""FAST_PATH: who publishes the outbox's rows, and how a commit wakes the relay."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from airtest import effects
from airtest.models import Order
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connections, transaction
from django.test import override_settings
from django.utils import timezone

import airlock
from airlock_django.conf import outbox_settings, read_settings
from airlock_django.management.commands.airlock_relay import Command
from airlock_django.models import OutboxMessage, RelayHeartbeat
from airlock_django.relay import Heartbeat, Relay
from airlock_django.wakeup import Listener

pytestmark = pytest.mark.django_db(
    transaction=True, databases=["default", "observer", "sqlite", "mysql"]
)

TASKS = ["airtest.effects.notify_warehouse", "airtest.effects.send_confirmation"]
#: A bound on every wait: a relay that never wakes fails the test instead of hanging it.
WAIT = 20.0


def settings_with(**outbox: Any) -> dict[str, Any]:
    return {"EXECUTOR": "sync", "SCOPE": "outbox", "OUTBOX": {"TASKS": TASKS, **outbox}}


@pytest.fixture(autouse=True)
def relay_only() -> Iterator[None]:
    with override_settings(AIRLOCK=settings_with(FAST_PATH=False)):
        yield


def checkout(using: str = "default") -> int:
    with transaction.atomic(using=using), airlock.scope(using=using):
        order = Order.objects.using(using).create(number="A-1")
        order.process(using)
    return order.pk


def statuses(using: str = "default") -> list[str]:
    return [r.get_status_display() for r in OutboxMessage.objects.using(using).order_by("id")]


@pytest.mark.parametrize("using", ["default", "sqlite", "mysql"])
def test_without_the_fast_path_the_request_only_writes_and_the_relay_publishes(
    using: str,
) -> None:
    before = timezone.now()
    order = checkout(using)
    assert effects.SENT == []
    assert statuses(using) == ["pending", "pending"]
    due = [r.next_attempt_at for r in OutboxMessage.objects.using(using)]
    assert all(before <= moment for moment in due)  # due at once
    assert all(moment <= timezone.now() for moment in due)
    tally = Relay(using=using).drain()
    assert (tally.claimed, tally.delivered) == (2, 2)
    assert [
        ("notify_warehouse", order, True),
        ("send_confirmation", order, True),
    ] == effects.SENT
    assert statuses(using) == ["delivered", "delivered"]


@pytest.mark.parametrize("value", ["no", 0, 1, None, "False"])
def test_fast_path_must_be_a_bool(value: object) -> None:
    with override_settings(AIRLOCK=settings_with(FAST_PATH=value)):
        with pytest.raises(ImproperlyConfigured, match=r"\['FAST_PATH'\] must be True or False"):
            outbox_settings()
        [problem] = [m for m in run_checks(tags=["airlock"]) if m.id == "airlock.E007"]
        assert "FAST_PATH" in problem.msg
        assert repr(value) in problem.msg


def test_a_bad_fast_path_rolls_the_transaction_back_with_its_rows() -> None:
    with (
        override_settings(AIRLOCK=settings_with(FAST_PATH="yes")),
        pytest.raises(airlock.DispatchError, match="FAST_PATH"),
    ):
        checkout()
    assert OutboxMessage.objects.count() == 0
    assert effects.SENT == []


def declined_checkout() -> None:
    with transaction.atomic(), airlock.scope():
        Order.objects.create(number="A-2").process()
        raise RuntimeError("declined")


def test_a_commit_notifies_a_listener_and_a_rollback_does_not() -> None:
    listener = Listener("default")
    try:
        assert listener.wait(0.05) is True  # opened and LISTENing: whatever came before, look
        assert listener.wait(0.05) is False
        checkout()
        assert listener.wait(WAIT) is True
        assert listener.wait(0.2) is False  # consumed
        with pytest.raises(RuntimeError, match="declined"):
            declined_checkout()
        assert listener.wait(0.5) is False
    finally:
        listener.close()


def test_the_fast_path_sends_no_notification() -> None:
    listener = Listener("default")
    try:
        listener.wait(0.05)
        with override_settings(AIRLOCK=settings_with(FAST_PATH=True, RELAY_AFTER=10)):
            checkout()
        assert statuses() == ["delivered", "delivered"]
        assert listener.wait(0.5) is False
    finally:
        listener.close()


def run_loop(relay: Relay, interval: float, **kwargs: Any) -> tuple[threading.Thread, Any]:
    stop = threading.Event()

    def loop() -> None:
        try:
            relay.loop(interval=interval, stop=stop, **kwargs)
        finally:
            connections.close_all()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread, stop


def wait_for_delivery(count: int) -> float:
    started = time.monotonic()
    while OutboxMessage.objects.filter(status=OutboxMessage.DELIVERED).count() < count:
        assert time.monotonic() - started < WAIT, f"not delivered within {WAIT}s: {statuses()}"
        time.sleep(0.01)
    return time.monotonic() - started


def test_a_listening_relay_publishes_at_the_commit_not_at_its_poll() -> None:
    thread, stop = run_loop(Relay(), interval=3600)
    try:
        time.sleep(0.3)  # the loop's first pass found nothing; it now waits on LISTEN
        checkout()
        wait_for_delivery(2)  # long before the hour's poll
        assert [name for name, _, _ in effects.SENT] == ["notify_warehouse", "send_confirmation"]
    finally:
        stop.set()
        thread.join(WAIT)
    assert not thread.is_alive()


def test_a_lost_notification_is_caught_by_the_poll() -> None:
    thread, stop = run_loop(Relay(), interval=0.5)
    try:
        time.sleep(0.3)
        # written as a process that died before its NOTIFY would be: rows, no wake-up
        with (
            override_settings(AIRLOCK=settings_with(FAST_PATH=True, RELAY_AFTER=0)),
            transaction.atomic(),
        ):
            OutboxMessage.objects.create(
                intent_id="6a3e4e0e-43b6-4c70-9b33-8b7b0c2f7a11",
                task=TASKS[0],
                executor="sync",
                payload='{"args": [7], "kwargs": {}, "options": {}}',
                enqueued_at=timezone.now(),
                next_attempt_at=timezone.now(),
            )
        wait_for_delivery(1)
        assert effects.SENT[0][:2] == ("notify_warehouse", 7)
    finally:
        stop.set()
        thread.join(WAIT)
    assert not thread.is_alive()


def test_the_loop_writes_a_heartbeat_and_deletes_it_when_stopped() -> None:
    thread, stop = run_loop(Relay(), interval=0.1)
    try:
        deadline = time.monotonic() + WAIT
        while not RelayHeartbeat.objects.exists():
            assert time.monotonic() < deadline
            time.sleep(0.02)
        [beat] = RelayHeartbeat.objects.all()
        assert beat.database == "default"
        assert beat.stale_after > 0.2
    finally:
        stop.set()
        thread.join(WAIT)
    assert not RelayHeartbeat.objects.exists()


def relay_warnings() -> list[str]:
    return [
        m.id or ""
        for m in run_checks(tags=["airlock"], databases=["default"])
        if m.id in ("airlock.W004", "airlock.I001")
    ]


def test_the_check_warns_when_no_relay_is_seen_without_the_fast_path() -> None:
    assert relay_warnings() == ["airlock.W004"]
    Heartbeat("default", stale_after=60).beat()
    assert relay_warnings() == []
    RelayHeartbeat.objects.update(seen_at=timezone.now() - timedelta(seconds=61))
    assert relay_warnings() == ["airlock.W004"]  # that relay died
    with override_settings(AIRLOCK=settings_with(FAST_PATH=True)):
        RelayHeartbeat.objects.all().delete()
        assert relay_warnings() == []


def test_plain_manage_py_check_does_not_query_for_a_relay() -> None:
    assert [m.id for m in run_checks() if m.id == "airlock.W004"] == []
    assert [m.id for m in run_checks(databases=["default"]) if m.id == "airlock.W004"] == [
        "airlock.W004"
    ]


def test_without_notify_the_check_says_the_relay_polls() -> None:
    airlock_setting = {**settings_with(FAST_PATH=False), "SCOPE_KWARGS": {"using": "sqlite"}}
    with override_settings(AIRLOCK=airlock_setting):
        [info] = [m for m in run_checks(tags=["airlock"]) if m.id == "airlock.I001"]
    assert "'sqlite' has no LISTEN/NOTIFY" in info.msg
    assert "polling" in info.msg


def test_relay_help_gives_every_default() -> None:
    parser = Command().create_parser("manage.py", "airlock_relay")
    options = [
        action
        for action in parser._actions
        if action.option_strings and action.dest not in _DJANGO_OPTIONS
    ]
    assert len(options) == 10
    for action in options:
        assert "(default:" in (action.help or ""), action.option_strings
    text = parser.format_help()
    assert "(default: 1.0)" in text
    assert "(default: 100)" in text


_DJANGO_OPTIONS = {
    "help",
    "version",
    "verbosity",
    "settings",
    "pythonpath",
    "traceback",
    "no_color",
    "force_color",
    "skip_checks",
}


EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "outbox_relay"
PAGE = Path(__file__).resolve().parents[2] / "docs" / "outbox-relay.md"


def test_every_example_of_the_page_is_included_and_valid() -> None:
    page = PAGE.read_text()
    for example in sorted(EXAMPLES.glob("*.py")):
        assert f"docs/examples/outbox_relay/{example.name}" in page, example.name
    namespace: dict[str, Any] = {}
    exec((EXAMPLES / "settings_relay_only.py").read_text(), namespace)
    with override_settings(AIRLOCK=namespace["AIRLOCK"]):
        _, problems = read_settings()
        assert problems == []
        assert outbox_settings().fast_path is False


def test_a_mariadb_without_skip_locked_is_refused_by_the_relay_and_the_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    features = connections["mysql"].features
    monkeypatch.setattr(features, "has_select_for_update_skip_locked", False, raising=False)
    with pytest.raises(ImproperlyConfigured, match=r"MariaDB >= 10\.6 or MySQL >= 8\.0\.1"):
        Relay(using="mysql").relay_batch()
    setting = {**settings_with(FAST_PATH=True), "SCOPE_KWARGS": {"using": "mysql"}}
    with override_settings(AIRLOCK=setting):
        checked = run_checks(tags=["airlock"], databases=["mysql"])
        [error] = [m for m in checked if m.id == "airlock.E012"]
    assert "SKIP LOCKED" in error.msg
    assert "'mysql'" in error.msg
    monkeypatch.undo()
    with override_settings(AIRLOCK=setting):
        checked = run_checks(tags=["airlock"], databases=["mysql"])
        assert [m for m in checked if m.id == "airlock.E012"] == []


def test_a_once_pass_counts_as_a_relay_for_an_hour() -> None:
    assert relay_warnings() == ["airlock.W004"]
    call_command("airlock_relay", "--once", verbosity=0)
    [beat] = RelayHeartbeat.objects.all()
    assert beat.name.startswith("once:")
    assert beat.stale_after == 3600
    assert relay_warnings() == []
    call_command("airlock_relay", "--once", verbosity=0)  # the next cron run: the same row
    assert RelayHeartbeat.objects.count() == 1
