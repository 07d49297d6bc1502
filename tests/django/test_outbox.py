"""OutboxScope and the relay on real transactions: PostgreSQL (default) and SQLite."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from io import StringIO
from typing import Any

import django
import pytest
from airtest import effects
from airtest.models import Order
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import override_settings

import airlock
import airlock_django
from airlock_django.codec import MAX_DEPTH, MAX_PAYLOAD_CHARS
from airlock_django.models import OutboxMessage
from airlock_django.outbox import OutboxScope
from airlock_django.relay import Relay

pytestmark = pytest.mark.django_db(
    transaction=True, databases=["default", "observer", "sqlite", "mysql"]
)

BOTH = pytest.mark.parametrize("using", ["default", "sqlite", "mysql"])
TASKS = [
    "airtest.effects.notify_warehouse",
    "airtest.effects.send_confirmation",
    "airtest.effects.flaky",
    "airtest.effects.remember",
    "airtest.effects.fail",
    "airtest.effects.unchecked",
]


def outbox_settings(**outbox: Any) -> dict[str, Any]:
    return {
        "EXECUTOR": "sync",
        "SCOPE": "outbox",
        "OUTBOX": {"TASKS": TASKS, "RELAY_AFTER": 0, **outbox},
    }


@pytest.fixture(autouse=True)
def outbox() -> Iterator[None]:
    with override_settings(AIRLOCK=outbox_settings()):
        yield


def rows(using: str = "default") -> list[OutboxMessage]:
    return list(OutboxMessage.objects.using(using).order_by("id"))


def statuses(using: str = "default") -> list[str]:
    return [row.get_status_display() for row in rows(using)]


def observed_rows(using: str) -> int:
    """Rows visible from another connection: committed ones."""
    observer = "observer" if using == "default" else using
    return OutboxMessage.objects.using(observer).count()


# -- the write path ---------------------------------------------------------


def test_the_setting_makes_plain_scopes_outbox_scopes() -> None:
    with airlock.scope() as scope:
        pass
    assert type(scope) is OutboxScope
    assert airlock_django.OutboxScope is OutboxScope
    assert airlock.plugins.lookup("scope", "outbox") is OutboxScope


@BOTH
def test_rows_are_written_in_the_transaction_and_delivered_after_commit(using: str) -> None:
    with transaction.atomic(using=using):
        with airlock.scope(using=using):
            order = Order.objects.using(using).create(number="A-1")
            order.process(using)
        assert [r.task for r in rows(using)] == TASKS[:2]
        assert statuses(using) == ["pending", "pending"]
        if using == "default":  # PostgreSQL: the rows are not committed yet
            assert observed_rows(using) == 0
        assert effects.SENT == []
    assert [name for name, _, _ in effects.SENT] == ["notify_warehouse", "send_confirmation"]
    assert all(pk == order.pk and committed for _, pk, committed in effects.SENT)
    assert statuses(using) == ["delivered", "delivered"]
    assert all(r.attempts == 1 and r.delivered_at is not None for r in rows(using))


@BOTH
def test_a_rolled_back_transaction_leaves_no_rows(using: str) -> None:
    def checkout() -> None:
        with transaction.atomic(using=using):
            with airlock.scope(using=using):
                Order.objects.using(using).create(number="A-1").process(using)
            raise RuntimeError("payment declined")

    with pytest.raises(RuntimeError):
        checkout()
    assert rows(using) == []
    assert effects.SENT == []


def test_an_intent_from_a_rolled_back_savepoint_gets_no_row() -> None:
    with transaction.atomic(), airlock.scope():
        airlock.enqueue(effects.remember, "kept")
        try:
            with transaction.atomic():
                airlock.enqueue(effects.remember, "rolled back")
                raise RuntimeError("inner failure")
        except RuntimeError:
            pass
        with transaction.atomic():
            airlock.enqueue(effects.remember, "released savepoint")
    assert [json.loads(r.payload)["args"] for r in rows()] == [["kept"], ["released savepoint"]]
    assert effects.CALLS == [(("kept",), {}), (("released savepoint",), {})]


def test_a_nested_scope_closing_in_a_transaction_stores_there_not_at_the_outer_end() -> None:
    with airlock.scope():  # the request's scope, as AirlockMiddleware opens it
        with transaction.atomic(), airlock.scope():
            airlock.enqueue(effects.remember, "durable")
            assert rows() == []
        assert observed_rows("default") == 1  # committed with the transaction
        assert effects.CALLS == [(("durable",), {})]
        assert statuses() == ["delivered"]


def test_the_outer_policy_still_judges_what_a_nested_scope_stores() -> None:
    with (
        airlock.scope(policy=airlock.BlockTasks({"remember"})),
        transaction.atomic(),
        airlock.scope(),
    ):
        airlock.enqueue(effects.remember, "blocked")
        airlock.enqueue(effects.flaky, 1)
    assert [r.task for r in rows()] == ["airtest.effects.flaky"]
    assert effects.CALLS == []


def test_a_flush_after_the_commit_warns_once_how_to_close_the_window(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from airlock_django import outbox

    outbox._warned_late.clear()
    with caplog.at_level(logging.WARNING, "airlock_django.outbox"):
        for _ in range(2):
            with airlock.scope(), transaction.atomic():
                airlock.enqueue(effects.remember, "exposed")
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert "after the transaction that enqueued them had committed" in warnings[0]
    assert "with transaction.atomic(), airlock.scope():" in warnings[0]
    assert statuses() == ["delivered", "delivered"]


def test_outside_a_transaction_the_rows_commit_and_go_at_the_end_of_the_block() -> None:
    with airlock.scope():
        airlock.enqueue(effects.remember, 1, key="value")
        assert rows() == []
    assert effects.CALLS == [((1,), {"key": "value"})]
    assert statuses() == ["delivered"]


def test_the_row_holds_json_and_the_fast_path_publishes_what_the_relay_would() -> None:
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    with airlock.scope(executor=airlock.sync_executor):
        airlock.enqueue(
            effects.remember,
            (1, 2),
            {"nested": [True, None, 1.5]},
            _dispatch_options={"eta": when, "expires": timedelta(minutes=5), "queue": "q"},
        )
    (row,) = rows()
    assert json.loads(row.payload) == {
        "args": [[1, 2], {"nested": [True, None, 1.5]}],
        "kwargs": {},
        "options": {
            "eta": {"__airlock__": "datetime", "value": "2030-01-02T03:04:05+00:00"},
            "expires": {"__airlock__": "timedelta", "seconds": 300.0},
            "queue": "q",
        },
    }
    # tuples arrive as lists, exactly as a JSON broker message would deliver them
    assert effects.CALLS == [(([1, 2], {"nested": [True, None, 1.5]}), {})]
    assert row.executor == "sync"
    assert isinstance(row.intent_id, uuid.UUID)


def nested(levels: int) -> list[Any]:
    """A list whose innermost list is ``levels`` lists deep."""
    value: list[Any] = []
    for _ in range(levels - 1):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("args", "kwargs", "options", "named"),
    [
        ((nested(MAX_DEPTH - 1),), {}, {}, f"deeper than the {MAX_DEPTH} levels an outbox row"),
        ((), {"x": "x" * MAX_PAYLOAD_CHARS}, {}, "an outbox row holds at most 1,000,000"),
        ((), {}, {"headers": {"h": nested(MAX_DEPTH - 2)}}, "dispatch option 'headers'"),
        ((object(),), {}, {}, "args[0] is object"),
        (({1: "a"},), {}, {}, "args[0] has the key 1"),
        ((), {"when": datetime(2030, 1, 1)}, {}, "kwargs['when'] is datetime"),
        ((float("nan"),), {}, {}, "args[0] is nan"),
        ((), {}, {"eta": datetime(2030, 1, 1)}, "naive datetime"),
    ],
)
def test_what_json_cannot_hold_fails_the_flush_before_any_row(
    args: tuple[Any, ...], kwargs: dict[str, Any], options: dict[str, Any], named: str
) -> None:
    def checkout() -> None:
        with transaction.atomic(), airlock.scope():
            airlock.enqueue(effects.remember, "fine")
            airlock.enqueue(effects.remember, *args, _dispatch_options=options, **kwargs)

    with pytest.raises(airlock.DispatchError) as caught:
        checkout()
    error = caught.value
    assert named in str(error.failed[0][1])
    assert [i.args for i in error.pending] == [("fine",)]  # accounted for, not lost
    assert error.dispatched == []
    assert rows() == []
    assert effects.CALLS == []


def test_the_deepest_arguments_a_row_holds_go_through_the_relay() -> None:
    deepest = nested(MAX_DEPTH - 2)  # in args (level 2) of the payload object (level 1)
    effects.BROKEN[0] = True
    with airlock.scope():
        airlock.enqueue(effects.flaky, deepest)
    effects.BROKEN[0] = False
    OutboxMessage.objects.update(next_attempt_at=datetime(2000, 1, 1, tzinfo=timezone.utc))
    assert Relay().drain().delivered == 1
    ((name, received, _),) = effects.SENT
    assert (name, received) == ("flaky", deepest)


def test_a_task_the_relay_could_not_find_fails_the_flush_with_the_fix() -> None:
    with pytest.raises(airlock.DispatchError) as caught, airlock.scope():
        airlock.enqueue(effects.sent)
    message = str(caught.value.failed[0][1])
    assert "'airtest.effects.sent'" in message
    assert 'AIRLOCK["OUTBOX"]["TASKS"]' in message
    assert rows() == []


def test_a_lambda_has_no_name_to_store() -> None:
    with pytest.raises(airlock.DispatchError) as caught, airlock.scope():
        airlock.enqueue(lambda: None)
    assert "no importable name" in str(caught.value.failed[0][1])


class Greeter:
    """A task of a framework airlock-django knows nothing about: a name without dots."""

    name = "greet"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, who: str) -> None:
        self.calls.append(who)


GREET = Greeter()


class GreeterPlugin:
    """That framework's plugin: the only place that can turn "greet" back into the task."""

    @airlock.hookimpl
    def airlock_resolve_task(self, name: str) -> object | None:
        return GREET if name == "greet" else None


def test_the_outbox_asks_the_installed_plugins_for_a_task_by_name() -> None:
    GREET.calls.clear()
    with override_settings(AIRLOCK=outbox_settings(FAST_PATH=False)):
        with pytest.raises(airlock.DispatchError) as caught, airlock.scope():
            airlock.enqueue(GREET, "without its plugin")
        assert "no importable name ('greet')" in str(caught.value.failed[0][1])
        assert rows() == []

        airlock.plugins.register(GreeterPlugin(), name="tests.greeter")
        try:
            with airlock.scope():
                airlock.enqueue(GREET, "ada")
            assert [row.task for row in rows()] == ["greet"]
            assert GREET.calls == []  # no fast path: the row waits for the relay
            tally = Relay().drain()
        finally:
            airlock.plugins.unregister("tests.greeter")
    assert (tally.delivered, tally.rejected) == (1, 0)
    assert GREET.calls == ["ada"]
    assert statuses() == ["delivered"]

    forged("greet")  # the plugin is gone: nothing can find the name any more
    assert Relay().drain().rejected == 1
    assert "the task 'greet' is not registered" in rows()[-1].last_error


def test_an_executor_path_the_relay_would_not_use_fails_the_flush() -> None:
    with (
        pytest.raises(airlock.DispatchError) as caught,
        airlock.scope(executor="airlock.integrations.executors.sync.sync_executor"),
    ):
        airlock.enqueue(effects.remember, 1)
    assert "'airlock.integrations.executors.sync.sync_executor' is neither" in str(caught.value)
    assert rows() == []


def test_an_unnamed_executor_fails_the_flush_naming_the_registered_ones() -> None:
    def adhoc(intent: airlock.Intent) -> None:
        raise AssertionError("never called")

    with pytest.raises(airlock.DispatchError) as caught, airlock.scope(executor=adhoc):
        airlock.enqueue(effects.remember, 1)
    assert "registered executor" in str(caught.value)
    assert rows() == []


def test_a_failed_publish_is_not_raised_the_rows_wait_for_the_relay(
    caplog: pytest.LogCaptureFixture,
) -> None:
    effects.BROKEN[0] = True
    with (
        caplog.at_level(logging.WARNING, "airlock_django.outbox"),
        transaction.atomic(),
        airlock.scope(),
    ):
        for number in (1, 2, 3):
            airlock.enqueue(effects.flaky, number)
    assert "3 of 3 effect(s) were not published" in caplog.text
    assert "(1 failed, 2 not tried after that)" in caplog.text
    assert statuses() == ["pending"] * 3
    first, *rest = rows()
    assert (first.attempts, first.last_error) == (1, "ConnectionError: the broker is down")
    assert first.next_attempt_at > first.enqueued_at  # backed off
    # the publish stopped at the failure: the rest cost no attempt, and are due with the first
    for row in rest:
        assert row.attempts == 0
        assert row.last_error == (
            "not tried: the publish stopped at an earlier failure"
            " (ConnectionError: the broker is down)"
        )
        assert row.next_attempt_at == first.next_attempt_at

    effects.BROKEN[0] = False
    OutboxMessage.objects.update(next_attempt_at=first.enqueued_at)  # the backoff has passed
    tally = Relay().drain()
    assert (tally.claimed, tally.delivered) == (3, 3)
    assert effects.SENT == [("flaky", 1, True), ("flaky", 2, True), ("flaky", 3, True)]
    assert statuses() == ["delivered"] * 3
    assert [r.attempts for r in rows()] == [2, 1, 1]


# -- the relay --------------------------------------------------------------


def stored(*numbers: int, using: str = "default") -> None:
    """Pending rows, as a process that died right after its commit would leave them."""
    with override_settings(AIRLOCK=outbox_settings()):
        effects.BROKEN[0] = True
        with airlock.scope(using=using):
            for number in numbers:
                airlock.enqueue(effects.flaky, number)
        effects.BROKEN[0] = False
    OutboxMessage.objects.using(using).update(
        next_attempt_at=datetime(2000, 1, 1, tzinfo=timezone.utc), attempts=0, last_error=""
    )


@BOTH
def test_the_relay_delivers_pending_rows_in_order_in_batches(using: str) -> None:
    stored(*range(7), using=using)
    seen = []
    tally = Relay(using=using, batch_size=3).drain(seen.append)
    assert [t.claimed for t in seen] == [3, 3, 1]
    assert (tally.claimed, tally.delivered, tally.batches) == (7, 7, 3)
    assert [n for _, n, _ in effects.SENT] == list(range(7))
    assert set(statuses(using)) == {"delivered"}
    assert Relay(using=using).drain().claimed == 0  # nothing twice


@pytest.mark.skipif(django.VERSION < (6, 0), reason="django.tasks arrived in Django 6.0")
def test_djangos_own_tasks_through_the_outbox_fast_path_and_relay() -> None:
    from airtest.jobs import send_newsletter, send_receipt
    from django.tasks import default_task_backend

    names = ["airtest.jobs.send_receipt", "airtest.jobs.send_newsletter"]
    settings = {**outbox_settings(TASKS=names), "EXECUTOR": "django_tasks"}
    run_after = datetime(2030, 1, 1, tzinfo=timezone.utc)

    def enqueued() -> list[tuple[str, list[Any], dict[str, Any], Any, int]]:
        return [
            (r.task.name, r.args, r.kwargs, r.task.run_after, r.task.priority)
            for r in default_task_backend.results
        ]

    expected = [
        ("send_receipt", [7], {}, None, 0),
        ("send_newsletter", [], {"user_id": 3}, run_after, 5),
    ]
    default_task_backend.clear()
    with override_settings(AIRLOCK=settings):
        with transaction.atomic(), airlock.scope():
            airlock.enqueue(send_receipt.func, 7)
            airlock.enqueue(
                send_newsletter.func,
                user_id=3,
                _dispatch_options={"run_after": run_after, "priority": 5},
            )
            assert enqueued() == []  # not before the commit
        assert enqueued() == expected
        assert statuses() == ["delivered", "delivered"]
        assert {row.executor for row in rows()} == {"django_tasks"}

        # as if the process had died between the commit and the publish
        default_task_backend.clear()
        OutboxMessage.objects.update(
            status=OutboxMessage.PENDING, next_attempt_at=datetime(2000, 1, 1, tzinfo=timezone.utc)
        )
        assert Relay().drain().delivered == 2
        assert enqueued() == expected
    default_task_backend.clear()


def test_the_relay_leaves_rows_that_are_not_due_yet() -> None:
    with override_settings(AIRLOCK=outbox_settings(RELAY_AFTER=3600)):
        effects.BROKEN[0] = True
        with airlock.scope():
            airlock.enqueue(effects.flaky, 1)
        effects.BROKEN[0] = False
        assert Relay().drain().claimed == 0
    assert statuses() == ["pending"]


def test_a_row_is_dead_after_the_last_attempt() -> None:
    stored(1)
    effects.BROKEN[0] = True
    relay = Relay()
    relay.settings.max_attempts = 2
    relay.settings.retry_backoff = 0
    first = relay.drain()
    assert (first.failed, first.dead) == (1, 0)
    second = relay.drain()
    assert (second.failed, second.dead) == (0, 1)
    (row,) = rows()
    assert (row.get_status_display(), row.attempts) == ("dead", 2)
    assert "the broker is down" in row.last_error
    assert relay.stats()["dead"] == 1

    effects.BROKEN[0] = False
    assert relay.retry_dead() == 1
    assert relay.drain().delivered == 1
    assert statuses() == ["delivered"]


def test_the_relay_stops_a_batch_at_the_first_failure_and_the_next_batch_goes_on() -> None:
    stored(1, 2, 3, 4)
    effects.BROKEN[0] = True
    down = Relay().drain()
    assert (down.claimed, down.delivered, down.failed, down.untried) == (4, 0, 1, 3)
    assert [r.attempts for r in rows()] == [1, 0, 0, 0]
    assert "1 failed (will retry), 3 not tried" in down.describe()

    effects.BROKEN[0] = False
    back = Relay().drain()  # the first row is backed off; the other three are still due
    assert (back.claimed, back.delivered, back.batches) == (3, 3, 1)
    assert statuses() == ["pending", "delivered", "delivered", "delivered"]


def test_backoff_doubles_up_to_the_maximum() -> None:
    relay = Relay()
    relay.settings.retry_backoff = 2
    relay.settings.retry_backoff_max = 10
    assert [relay.settings.backoff(n) for n in (1, 2, 3, 4, 5)] == [2, 4, 8, 10, 10]


def forged(task: str, executor: str = "sync", payload: str | None = None) -> OutboxMessage:
    now = datetime(2000, 1, 1, tzinfo=timezone.utc)
    return OutboxMessage.objects.create(
        intent_id=uuid.uuid4(),
        task=task,
        executor=executor,
        payload=payload or json.dumps({"args": ["/tmp/x"], "kwargs": {}, "options": {}}),
        enqueued_at=now,
        next_attempt_at=now,
    )


@pytest.mark.parametrize(
    ("task", "executor", "payload", "reason"),
    [
        ("os.remove", "sync", None, "the task 'os.remove' is not registered"),
        ("airtest.effects.remember", "os.system", None, "the executor 'os.system'"),
        ("airtest.effects.remember", "sync", '{"args": {}}', "unreadable row"),
        ("airtest.effects.remember", "sync", "not json", "unreadable row"),
    ],
)
def test_the_relay_rejects_rows_naming_what_the_app_did_not_register(
    task: str, executor: str, payload: str | None, reason: str
) -> None:
    forged(task, executor, payload)
    forged("airtest.effects.remember")
    tally = Relay().drain()
    assert (tally.rejected, tally.delivered) == (1, 1)
    assert statuses() == ["rejected", "delivered"]
    assert reason in rows()[0].last_error
    assert effects.CALLS == [(("/tmp/x",), {})]


def test_prune_deletes_only_old_delivered_rows() -> None:
    stored(1, 2, 3)
    Relay().drain()
    stored_now = rows()
    OutboxMessage.objects.filter(pk=stored_now[0].pk).update(
        delivered_at=datetime(2000, 1, 1, tzinfo=timezone.utc)
    )
    forged("os.remove")
    Relay().drain()  # rejected: never pruned
    assert Relay().prune(timedelta(days=1)) == 1
    assert statuses() == ["delivered", "delivered", "rejected"]


# -- manage.py airlock_relay ------------------------------------------------


def relay_command(*args: str, status: int = 0) -> str:
    """The command's output; ``status`` is the exit status it must end with."""
    out = StringIO()
    if status == 0:
        call_command("airlock_relay", *args, stdout=out, stderr=StringIO())
        return out.getvalue()
    with pytest.raises(CommandError) as caught:
        call_command("airlock_relay", *args, stdout=out, stderr=StringIO())
    assert caught.value.returncode == status, caught.value
    return out.getvalue() + f"\nCommandError: {caught.value}"


def test_the_command_relays_once_with_progress_and_a_summary() -> None:
    stored(*range(5))
    out = relay_command("--once", "--batch-size", "2")
    lines = out.splitlines()
    assert lines[0].startswith("batch 1: 2 claimed, 2 delivered")
    assert lines[2].startswith("batch 3: 1 claimed, 1 delivered")
    assert lines[-1].startswith("relayed 3 batch(es): 5 claimed, 5 delivered")
    assert lines[-1].endswith("now 0 pending, 0 dead, 0 rejected")
    assert len(effects.SENT) == 5


def test_the_command_reports_stats_as_json() -> None:
    stored(1, 2)
    forged("os.remove")
    Relay().drain()
    out = relay_command("--stats", status=3)
    assert out.splitlines()[-1] == (
        "CommandError: 0 dead and 1 rejected row(s) in the outbox; each has its reason in"
        " last_error."
    )
    stats = json.loads(out.splitlines()[0])
    assert stats == {
        "pending": 0,
        "delivered": 2,
        "dead": 0,
        "rejected": 1,
        "oldest_overdue_seconds": 0.0,
    }


def test_the_command_prunes_and_retries_dead_rows() -> None:
    stored(1)
    Relay().drain()
    OutboxMessage.objects.update(delivered_at=datetime(2000, 1, 1, tzinfo=timezone.utc))
    forged("os.remove")
    Relay().drain()
    out = relay_command("--once", "--prune", "7d", "--retry-dead", status=3)
    assert "1 dead or rejected row(s) made pending again" in out
    assert "pruned 1 row(s) delivered more than 7 days, 0:00:00 ago" in out
    assert statuses() == ["rejected"]  # retried, and rejected again


def test_the_exit_status_says_whether_a_pass_set_rows_aside() -> None:
    stored(1, 2)
    assert relay_command("--stats").startswith('{"pending": 2,')
    relay_command("--once")  # everything delivered
    stored(3)
    effects.BROKEN[0] = True
    relay_command("--once")  # a failed publish waits for a retry: nothing set aside
    assert relay_command("--stats").startswith('{"pending": 1, "delivered": 2')
    forged("os.remove")
    out = relay_command("--once", status=3)
    assert out.splitlines()[-1] == (
        "CommandError: this pass set 1 row(s) aside (0 dead, 1 rejected); each has its reason"
        " in last_error. Fix the cause, then run with --retry-dead."
    )
    relay_command("--once")  # a later pass sets nothing aside
    relay_command("--stats", status=3)  # but the rejected row is still there


def test_the_help_documents_the_exit_statuses() -> None:
    from airlock_django.management.commands.airlock_relay import Command

    text = " ".join(Command().create_parser("manage.py", "airlock_relay").format_help().split())
    assert "Exit status: 0 when every row it claimed was delivered or waits for a retry;" in text
    assert "3 when --once set rows aside" in text
    assert "1 when it could not run" in text
    assert "--loop exits 0 when stopped by SIGTERM or Ctrl-C" in text


def test_a_permanent_failure_is_dead_at_once_and_the_publish_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, "airlock_django.outbox"), airlock.scope():
        airlock.enqueue(effects.remember, "before")
        airlock.enqueue(effects.unchecked, order_idd=1)  # not its signature
        airlock.enqueue(effects.remember, "after")
    assert effects.CALLS == [(("before",), {}), (("after",), {})]
    assert statuses() == ["delivered", "dead", "delivered"]
    dead = rows()[1]
    assert dead.attempts == 1
    assert dead.last_error.startswith("permanent failure, not retried: TypeError: ")
    assert "order_idd" in dead.last_error
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warning.startswith("airlock outbox: 1 of 3 effect(s) were refused by the executor")
    assert "run `manage.py airlock_relay --retry-dead`" in warning

    # the relay does the same with a row it reads back
    forged("airtest.effects.unchecked", payload='{"args": [1, 2, 3], "kwargs": {},'
           ' "options": {}}')  # fmt: skip
    forged("airtest.effects.remember")
    tally = Relay().drain()
    assert (tally.claimed, tally.dead, tally.delivered, tally.failed) == (2, 1, 1, 0)
    assert statuses()[3:] == ["dead", "delivered"]
    assert rows()[3].last_error.startswith("permanent failure, not retried: TypeError: ")


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (TypeError("bad argument"), True),
        (ValueError("ISO string too short"), True),
        (KeyError("nope"), True),
        (OverflowError("date value out of range"), True),
        (airlock.UsageError("no broker"), True),
        (ConnectionError("refused"), False),
        (TimeoutError("timed out"), False),
        (OSError("unreachable"), False),
        (RuntimeError("the broker is down"), False),
    ],
)
def test_which_errors_are_permanent(error: BaseException, permanent: bool) -> None:
    from airlock_django.delivery import is_permanent

    assert is_permanent(error) is permanent
    wrapped = RuntimeError("a client's own error type, raised from the cause")
    wrapped.__cause__ = error
    assert is_permanent(wrapped) is permanent
    unrelated = RuntimeError("only raised while handling the other")
    unrelated.__context__ = error
    assert is_permanent(unrelated) is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--once", "--prune", "soon"], "--prune takes an age such as 7d"),
        (["--once", "--batch-size", "0"], "--batch-size must be at least 1"),
        (["--once", "--max-attempts", "0"], "--max-attempts must be at least 1"),
        (["--once", "--interval", "-1"], "--interval must not be negative"),
    ],
)
def test_the_command_refuses_bad_options(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        relay_command(*args)


def test_an_invalid_outbox_setting_is_reported_by_the_checks() -> None:
    from airlock_django.conf import read_settings

    with override_settings(AIRLOCK={"SCOPE": "outbox", "OUTBOX": {"MAX_ATTEMPT": 3}}):
        problems = read_settings()[1]
    assert [p.check_id for p in problems] == ["airlock.E007"]
    assert "Did you mean 'MAX_ATTEMPTS'?" in problems[0].hint
    with override_settings(AIRLOCK={"OUTBOX": {"TASKS": "one.task", "RELAY_AFTER": -1}}):
        messages = [p.message for p in read_settings()[1]]
    assert messages == [
        "settings.AIRLOCK['OUTBOX']['TASKS'] must be a list of task names, got 'one.task'.",
        "settings.AIRLOCK['OUTBOX']['RELAY_AFTER'] must be a number >= 0, got -1.",
    ]
    outbox = {"RETRY_BACKOFF_MAX": 1e308, "RETRY_BACKOFF": float("nan"), "MAX_ATTEMPTS": 2.5}
    with override_settings(AIRLOCK={"OUTBOX": outbox}):
        messages = [p.message for p in read_settings()[1]]
    assert messages == [
        "settings.AIRLOCK['OUTBOX']['RETRY_BACKOFF_MAX'] must be at most 31,536,000, got 1e+308.",
        "settings.AIRLOCK['OUTBOX']['RETRY_BACKOFF'] must be at most 31,536,000, got nan.",
        "settings.AIRLOCK['OUTBOX']['MAX_ATTEMPTS'] must be a whole number >= 1, got 2.5.",
    ]


@pytest.mark.parametrize("relay_after", [0, 0.5])
def test_a_relay_after_that_races_the_fast_path_is_a_check_warning(relay_after: float) -> None:
    from django.core.checks import Warning, run_checks

    with override_settings(AIRLOCK=outbox_settings(RELAY_AFTER=relay_after)):
        messages = run_checks(tags=["airlock"])
        # a warning, not an error: the outbox works, with duplicates
        with airlock.scope():
            airlock.enqueue(effects.remember, "works")
    assert [(type(m), m.id) for m in messages] == [(Warning, "airlock.W003")]
    assert f"settings.AIRLOCK['OUTBOX']['RELAY_AFTER'] is {relay_after}" in messages[0].msg
    assert "goes out twice" in messages[0].msg
    assert "Keep RELAY_AFTER at 1 second or more" in (messages[0].hint or "")
    assert effects.CALLS == [(("works",), {})]
    with override_settings(AIRLOCK=outbox_settings(RELAY_AFTER=1)):
        assert run_checks(tags=["airlock"]) == []


# -- invalid settings fail closed ------------------------------------------------------


@pytest.mark.parametrize(
    ("broken", "named"),
    [
        ({"OUTBOX": {"RELAY_AFTER": -1}}, "settings.AIRLOCK['OUTBOX']['RELAY_AFTER']"),
        ({"OUTBOX": {"MAX_ATTEMPT": 3}}, "unknown key 'MAX_ATTEMPT'"),
        ({"OUTBOX": ["TASKS"]}, "settings.AIRLOCK['OUTBOX'] must be a dict"),
        ({"EXECUTOR": "celry"}, "airlock.E003: settings.AIRLOCK['EXECUTOR'] is invalid"),
        ({"POLICY": "allow_some"}, "airlock.E004: settings.AIRLOCK['POLICY'] is invalid"),
    ],
    ids=["relay_after", "unknown key", "not a dict", "executor", "policy"],
)
def test_invalid_settings_roll_the_transaction_back_instead_of_committing_without_rows(
    broken: dict[str, Any], named: str
) -> None:
    def checkout() -> None:
        with transaction.atomic():
            Order.objects.create(number="M-1")
            with airlock.scope():
                airlock.enqueue(effects.remember, "never")

    with override_settings(AIRLOCK={**outbox_settings(), **broken}):
        assert airlock.get_configuration()["scope_cls"] is OutboxScope
        with pytest.raises(airlock.DispatchError) as caught:
            checkout()
    assert not Order.objects.filter(number="M-1").exists()  # rolled back, with its effects
    assert rows() == []
    assert effects.CALLS == []
    ((intent, error),) = caught.value.failed
    assert intent.args == ("never",)
    assert named in str(error)
    assert "python manage.py check" in str(error)


# -- the admin ------------------------------------------------------------------------


def test_the_admin_shows_the_outbox_and_changes_nothing(client: Any) -> None:
    from django.contrib.auth.models import User

    stored(1)
    forged("os.remove")
    Relay().drain()
    pending = forged("airtest.effects.remember")
    before = [(r.pk, r.status, r.attempts, r.last_error) for r in rows()]
    client.force_login(User.objects.create_superuser("admin", "admin@example.com", "pw"))
    page = "/admin/airlock/outboxmessage/"

    listing = client.get(page)
    assert listing.status_code == 200
    assert b"os.remove" in listing.content
    assert b"delete_selected" not in listing.content  # no bulk delete action offered
    detail = client.get(f"{page}{pending.pk}/change/")
    assert detail.status_code == 200  # shown read-only
    assert b'name="_save"' not in detail.content

    assert client.get(f"{page}add/").status_code == 403
    assert client.post(f"{page}add/", {"task": "os.system"}).status_code == 403
    assert client.get(f"{page}{pending.pk}/delete/").status_code == 403
    assert client.post(f"{page}{pending.pk}/delete/", {"post": "yes"}).status_code == 403
    changed = client.post(f"{page}{pending.pk}/change/", {"status": 1, "task": "os.system"})
    assert changed.status_code == 403
    bulk = client.post(
        page,
        {"action": "delete_selected", "_selected_action": [r.pk for r in rows()], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    assert [(r.pk, r.status, r.attempts, r.last_error) for r in rows()] == before


class LeavesPending:
    """A batching executor that sends nothing and says so: every intent stays pending."""

    def __call__(self, intent: airlock.Intent) -> None:
        raise AssertionError("dispatch_many is used")

    def dispatch_many(self, intents: list[airlock.Intent]) -> None:
        raise airlock.DispatchError([], [], intents)


class LeavesPendingPlugin:
    @airlock.hookimpl
    def airlock_register_executors(self) -> dict[str, Any]:
        return {"leaves_pending": LeavesPending()}


def test_intents_an_executor_leaves_pending_wait_untried() -> None:
    airlock.plugins.register(LeavesPendingPlugin(), name="tests.leaves_pending")
    try:
        forged("airtest.effects.remember", executor="leaves_pending")
        forged("airtest.effects.remember", executor="leaves_pending")
        tally = Relay().drain()
    finally:
        airlock.plugins.unregister("tests.leaves_pending")
    assert (tally.claimed, tally.untried, tally.delivered, tally.failed) == (2, 2, 0, 0)
    assert statuses() == ["pending", "pending"]
