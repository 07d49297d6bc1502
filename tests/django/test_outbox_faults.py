"""The outbox under faults: PostgreSQL, redis-servers of our own, real Celery workers.

The processes and what the workers report are in outbox_stack.py; the broker
and its worker (the ``stack`` fixture) are shared by the suite (conftest.py).
"""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import kombu
import psycopg
import pytest
from airtest.models import Order
from celery import Celery
from django.db import connections, transaction
from django.test import override_settings
from django.utils import timezone
from outbox_stack import (
    QUEUE,
    TASK,
    RedisServer,
    Stack,
    Worker,
    check_runs,
    child,
    finish,
    free_port,
    label_of,
    outbox_rows,
    project_env,
    python,
    relay,
    sleep_until,
    spawn,
    stop,
    summary,
    wait_until,
)

import airlock
from airlock_django.models import OutboxMessage

pytestmark = [
    pytest.mark.faults,
    pytest.mark.slow,
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


# -- 1. SIGKILL between the commit and the publish ------------------------------

TRIALS = 5
EFFECTS = 20


def test_sigkill_after_commit_the_relay_delivers_every_effect_once(
    stack: Stack, outbox_figures: list[dict[str, Any]]
) -> None:
    # the trials are separate processes, run side by side
    labels = [f"kill{trial}" for trial in range(TRIALS)]
    command = ["-m", "airtest.fault_child", "sigkill", "--effects", str(EFFECTS), "--label"]
    ended = finish([spawn(stack.env, *command, label) for label in labels])
    for label, (returncode, _, err) in zip(labels, ended, strict=True):
        assert returncode == -signal.SIGKILL, err
        rows = [r for r in outbox_rows() if label_of(r).startswith(f"{label}:")]
        assert [r.get_status_display() for r in rows] == ["pending"] * EFFECTS
        assert all(r.attempts == 0 and r.last_error == "" for r in rows)
        assert [label_of(r) for r in rows] == [f"{label}:{n}" for n in range(EFFECTS)]
        assert Order.objects.filter(number__startswith=f"{label}-").count() == EFFECTS
    assert stack.events.drain(stack.worker) == []  # they died before publishing

    # two relays at once, as a deployment may run them
    command = ["-m", "django", "airlock_relay", "--once", "--batch-size", "10"]
    tallies = [summary(*ended) for ended in finish([spawn(stack.env, *command) for _ in "ab"])]
    assert sum(counts["delivered"] for counts, _ in tallies) == TRIALS * EFFECTS, tallies
    rows = outbox_rows()
    assert len(rows) == TRIALS * EFFECTS
    assert {(r.get_status_display(), r.attempts) for r in rows} == {("delivered", 1)}
    delivered, duplicates = check_runs(rows, stack.events.drain(stack.worker))
    assert (delivered, duplicates) == (TRIALS * EFFECTS, 0)
    outbox_figures.append(
        {
            "scenario": "SIGKILL between commit and publish",
            "trials": TRIALS,
            "committed": len(rows),
            "delivered": delivered,
            "duplicates": duplicates,
            "rolled_back": 0,
        }
    )


# -- 2. the broker stopped during the flush, then restarted ---------------------

STOP_AT = 8  # the message at which redis-publish kills the broker
SMALL_BATCH = 5  # airtest.fault_tasks.small_batches


def delivered_before_the_stop() -> int:
    """How many messages were out when the broker died at message STOP_AT.

    Where kombu batches (``Producer.batch``, kombu >= 5.7) the executor sends
    SMALL_BATCH messages per round trip, so only whole batches went; elsewhere
    every message goes on its own and all those before STOP_AT went.
    """
    if hasattr(kombu.Producer, "batch"):
        return (STOP_AT - 1) // SMALL_BATCH * SMALL_BATCH
    return STOP_AT - 1


def stopped_at_first_failure(waiting: list[OutboxMessage]) -> int:
    """Check a failed publish's rows: tried up to the failure, not tried after; return the tried."""
    tried = sum(1 for r in waiting if r.attempts == 1)
    assert tried >= 1
    assert [r.attempts for r in waiting] == [1] * tried + [0] * (len(waiting) - tried)
    assert all(not r.last_error.startswith("not tried:") for r in waiting[:tried])
    assert all(r.last_error.startswith("not tried:") for r in waiting[tried:])
    return tried


@pytest.mark.parametrize("mode", ["redis-commit", "redis-publish"])
def test_redis_stopped_during_the_flush_and_restarted_loses_nothing(
    mode: str,
    stack: Stack,
    tmp_path: Path,
    outbox_figures: list[dict[str, Any]],
) -> None:
    broker = RedisServer(tmp_path / "broker")
    queue = f"{QUEUE}_down"
    timings = (
        {"AIRTEST_RETRY_BACKOFF": "1", "AIRTEST_RETRY_BACKOFF_MAX": "600"}
        if mode == "redis-commit"
        # RELAY_AFTER: the relay does not race the fast path for rows not yet tried
        # (the first retry comes 2 s after the failed flush: the test has read the flush's
        # own accounting by then, however slow the machine)
        else {
            "AIRTEST_RETRY_BACKOFF": "2",
            "AIRTEST_RETRY_BACKOFF_MAX": "2",
            "AIRTEST_RELAY_AFTER": "600",
        }
    )
    env = project_env(
        broker.url,
        stack.events.url,
        queue,
        AIRTEST_EXECUTOR="airtest.fault_tasks.small_batches",
        AIRTEST_MAX_ATTEMPTS="1000",
        **timings,
    )
    worker: Worker | None = None
    looping: subprocess.Popen[str] | None = None
    try:
        broker.start()
        if mode == "redis-publish":
            # a long-running relay, there before the fault and through it
            looping = spawn(env, "-m", "django", "airlock_relay", "--loop", "--interval", "0.1")
        done = child(
            env, mode, "--effects", str(EFFECTS), "--label", mode,
            "--redis-pid", str(broker.pid), "--redis-port", str(broker.port),
            "--stop-at", str(STOP_AT),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        broker.reap()  # the child killed it
        assert "were not published after the commit" in done.stderr

        # the flush's accounting: what went out is delivered, the rest waits, none is lost
        went = 0 if mode == "redis-commit" else delivered_before_the_stop()
        rows = outbox_rows()
        assert [r.get_status_display() for r in rows] == (
            ["delivered"] * went + ["pending"] * (EFFECTS - went)
        )
        assert all(r.attempts == 1 and r.delivered_at is not None for r in rows[:went])
        waiting = rows[went:]
        tried = stopped_at_first_failure(waiting)
        assert "DispatchError" not in waiting[0].last_error  # the broker's own error
        assert all(r.delivered_at is None and r.next_attempt_at > r.enqueued_at for r in waiting)

        if mode == "redis-commit":
            # a relay while the broker is down: it stops at the first failure, which backs off
            sleep_until(max(r.next_attempt_at for r in waiting))
            began = timezone.now()
            counts, output = relay(env, "--once")
            ended = timezone.now()
            assert (counts["claimed"], counts["delivered"], counts["dead"]) == (20, 0, 0), output
            assert counts["failed"] >= 1, output
            assert counts["failed"] + counts["untried"] == 20, output
            after = outbox_rows()
            assert [r.attempts for r in after] == (
                [2] * tried + [1] * (counts["failed"] - tried) + [0] * counts["untried"]
            )
            for row in after[: counts["failed"]]:
                backoff = timedelta(seconds=2 ** (row.attempts - 1))
                assert began + backoff <= row.next_attempt_at <= ended + backoff
            broker.start()  # same port, same append-only file
            worker = Worker(env)
            sleep_until(max(r.next_attempt_at for r in outbox_rows()))
            counts, output = relay(env, "--once")
            assert (counts["claimed"], counts["delivered"]) == (20, 20), output
        else:
            # the relay keeps trying while the broker is down, a batch at a time, backing off
            assert looping is not None
            wait_until(
                lambda: min(r.attempts for r in outbox_rows()[went:]) >= 3,
                "the relay retried every waiting row twice while the broker was down",
            )
            assert OutboxMessage.objects.filter(status=OutboxMessage.DELIVERED).count() == went
            broker.start()
            worker = Worker(env)
            wait_until(
                lambda: not OutboxMessage.objects.exclude(status=OutboxMessage.DELIVERED).exists(),
                "the relay delivered every row after the restart",
            )
            stop(looping)
            ((returncode, out, err),) = finish([looping])
            looping = None
            counts, output = summary(returncode, out, err)
            assert counts["delivered"] == EFFECTS - went, output
            assert counts["failed"] >= 2 * (EFFECTS - went), output

        rows = outbox_rows()
        assert {r.get_status_display() for r in rows} == {"delivered"}
        ran, twice = check_runs(rows, stack.events.drain(worker))
        assert (ran, twice) == (EFFECTS, 0)
    finally:
        if looping is not None:
            stop(looping)
            finish([looping])
        if worker is not None:
            worker.stop()
        broker.stop()
    outbox_figures.append(
        {
            "scenario": f"Redis killed {'after commit' if mode == 'redis-commit' else 'mid-flush'}"
            f" ({went} of {EFFECTS} out), restarted",
            "trials": 1,
            "committed": EFFECTS,
            "delivered": ran,
            "duplicates": twice,
            "rolled_back": 0,
        }
    )


def test_a_broker_that_is_down_is_tried_once_per_flush(stack: Stack, tmp_path: Path) -> None:
    """One round trip fails; the fast path does not try the other three batches of five."""
    broker = RedisServer(tmp_path / "broker")
    env = project_env(
        broker.url, stack.events.url, f"{QUEUE}_down",
        AIRTEST_EXECUTOR="airtest.fault_tasks.small_batches", AIRTEST_RETRY_BACKOFF="600",
    )  # fmt: skip
    try:
        broker.start()
        done = child(
            env, "redis-commit", "--effects", str(EFFECTS), "--label", "down",
            "--redis-pid", str(broker.pid), "--redis-port", str(broker.port),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        broker.reap()
    finally:
        broker.stop()
    rows = outbox_rows()
    assert {r.get_status_display() for r in rows} == {"pending"}
    # the first publish fails to connect (one row), or, on a pooled connection, the first
    # pipelined round trip fails (one batch); before the fix all twenty were tried
    assert stopped_at_first_failure(rows) in {1, SMALL_BATCH}


# -- 3. two relays racing on the same rows ----------------------------------------

RACE_ROWS = 2000


def connection_params() -> dict[str, Any]:
    """psycopg's arguments for a connection of our own to the test database."""
    database = connections["default"].settings_dict
    return {
        "dbname": database["NAME"],
        "user": database["USER"],
        "password": database["PASSWORD"],
        "host": database["HOST"],
        "port": database["PORT"],
    }


def test_two_relays_racing_publish_each_row_once(
    stack: Stack, outbox_figures: list[dict[str, Any]]
) -> None:
    race_queue = f"{QUEUE}_race"  # no worker consumes it: the messages stay to be counted
    now = timezone.now()
    OutboxMessage.objects.bulk_create(
        OutboxMessage(
            intent_id=uuid.uuid4(),
            task=TASK,
            executor="celery",
            payload=json.dumps(
                {"args": [f"race:{n}"], "kwargs": {}, "options": {"queue": race_queue}}
            ),
            enqueued_at=now,
            next_attempt_at=now,
        )
        for n in range(RACE_ROWS)
    )
    params = connection_params()
    relays: list[subprocess.Popen[str]] = []
    try:
        # Hold the table so that both relays queue up on their first SELECT ... FOR UPDATE
        # and start claiming at the same moment (a slow start would not race).
        with psycopg.connect(**params) as gate, psycopg.connect(**params, autocommit=True) as spy:
            gate.execute("LOCK TABLE airlock_outbox IN EXCLUSIVE MODE")
            command = ["-m", "django", "airlock_relay", "--once", "--batch-size", "50"]
            relays = [spawn(stack.env, *command) for _ in "ab"]

            def both_waiting() -> bool:
                assert all(r.poll() is None for r in relays), "a relay exited before the race"
                found = spy.execute(
                    "SELECT count(*) FROM pg_locks"
                    " WHERE relation = 'airlock_outbox'::regclass AND NOT granted"
                ).fetchone()
                return found is not None and found[0] == 2

            wait_until(both_waiting, "both relays waiting for the outbox table")
            gate.commit()
        tallies = [summary(*ended) for ended in finish(relays)]
    finally:
        for process in relays:
            stop(process)
    claimed = [counts["claimed"] for counts, _ in tallies]
    assert all(claimed), f"a relay claimed nothing: {tallies}"
    assert sum(claimed) == RACE_ROWS
    assert sum(counts["delivered"] for counts, _ in tallies) == RACE_ROWS

    rows = outbox_rows()
    assert len(rows) == RACE_ROWS
    assert {(r.get_status_display(), r.attempts) for r in rows} == {("delivered", 1)}
    client = stack.events.client
    messages = [json.loads(m) for m in client.lrange(race_queue, 0, -1)]
    client.delete(race_queue)
    published = Counter(m["headers"]["id"] for m in messages)
    assert set(published) == {str(r.intent_id) for r in rows}
    duplicates = sum(published.values()) - len(published)
    assert duplicates == 0
    outbox_figures.append(
        {
            "scenario": f"two relays racing ({claimed[0]} + {claimed[1]} rows claimed)",
            "trials": 1,
            "committed": RACE_ROWS,
            "delivered": len(published),
            "duplicates": duplicates,
            "rolled_back": 0,
        }
    )


# -- 4. a rolled-back transaction ---------------------------------------------------


def test_a_rolled_back_transaction_publishes_nothing(
    stack: Stack, outbox_figures: list[dict[str, Any]]
) -> None:
    done = child(stack.env, "rollback", "--effects", str(EFFECTS), "--label", "rollback")
    assert done.returncode == 0, done.stderr
    assert not OutboxMessage.objects.exists()
    assert not Order.objects.filter(number__startswith="rollback-").exists()
    assert stack.events.drain(stack.worker) == []
    assert stack.events.client.llen(QUEUE) == 0
    outbox_figures.append(
        {
            "scenario": "rolled-back transaction",
            "trials": 1,
            "committed": 0,
            "delivered": 0,
            "duplicates": 0,
            "rolled_back": EFFECTS,
        }
    )


# -- 5. a broker outage in outbox mode: one warning line per flush --------------------


def test_a_broker_outage_logs_one_warning_line_per_flush(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing is lost, so no traceback at WARNING: one line naming what waits for the relay."""
    broker = RedisServer(tmp_path / "broker")
    broker.start()
    broker.stop()  # a broker of our own, stopped: its port refuses connections
    app = Celery("outage", broker=broker.url, set_as_current=False)
    app.conf.broker_transport_options = {"max_retries": 0}  # as docs/durability.md advises

    @app.task(name="airtest.outage.record")
    def record(label: str) -> None:
        raise AssertionError("no worker runs in this test")

    settings = {
        "EXECUTOR": "celery",
        "SCOPE": "outbox",
        "OUTBOX": {"TASKS": ["airtest.outage.record"]},
    }
    try:
        with override_settings(AIRLOCK=settings), caplog.at_level(logging.DEBUG):
            for flush in range(2):
                with transaction.atomic(), airlock.scope():
                    for n in range(3):
                        airlock.enqueue(record, f"{flush}:{n}")
    finally:
        app.close()
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.name, r.levelname) for r in loud] == [("airlock_django.outbox", "WARNING")] * 2
    for warning in loud:
        message = warning.getMessage()
        assert "\n" not in message
        assert warning.exc_info is None
        assert message.startswith("airlock outbox: 3 of 3 effect(s) were not published")
        assert "the 3 wait in the outbox for `manage.py airlock_relay`" in message
        assert "OperationalError" in message  # the broker's own error, in one line
    assert not [r for r in caplog.records if r.levelno >= logging.INFO and r.exc_info]
    tracebacks = [r for r in caplog.records if r.levelno == logging.DEBUG and r.exc_info]
    assert [r.name for r in tracebacks] == ["airlock_django.outbox"] * 2
    assert {r.get_status_display() for r in outbox_rows()} == {"pending"}
    assert len(outbox_rows()) == 6


# -- 6. PostgreSQL drops the relay's connection --------------------------------------

WAVE = 20


def due_rows(label: str, count: int = WAVE) -> list[OutboxMessage]:
    now = timezone.now()
    return [
        OutboxMessage(
            intent_id=uuid.uuid4(),
            task=TASK,
            executor="celery",
            payload=json.dumps({"args": [f"{label}:{n}"], "kwargs": {}, "options": {}}),
            enqueued_at=now,
            next_attempt_at=now,
        )
        for n in range(count)
    ]


def test_the_looping_relay_survives_pg_terminate_backend(
    stack: Stack, outbox_figures: list[dict[str, Any]]
) -> None:
    """Killed while idle between passes, and while waiting to claim: it reconnects, loses nothing.

    The relay's connection is told apart from every other by its application_name
    (libpq reads PGAPPNAME). After each kill a new wave of rows is committed, and
    all of them must reach the worker exactly once.
    """
    name = f"airlock-relay-{uuid.uuid4().hex[:8]}"
    env = {**stack.env, "PGAPPNAME": name}
    looping = spawn(env, "-m", "django", "airlock_relay", "--loop", "--interval", "0.1")
    kills = 0
    try:
        with psycopg.connect(**connection_params(), autocommit=True) as killer:

            def backends(state: str = "%") -> list[int]:
                assert looping.poll() is None, "the relay exited"
                found = killer.execute(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = %s"
                    " AND coalesce(wait_event_type, '') LIKE %s",
                    (name, state),
                ).fetchall()
                return [pid for (pid,) in found]

            def all_delivered() -> bool:
                assert looping.poll() is None, "the relay exited"
                return not OutboxMessage.objects.exclude(status=OutboxMessage.DELIVERED).exists()

            def kill() -> None:
                nonlocal kills
                (pid,) = backends()
                killer.execute("SELECT pg_terminate_backend(%s)", (pid,))
                kills += 1

            OutboxMessage.objects.bulk_create(due_rows("before"))
            wait_until(all_delivered, "the first wave delivered")
            for trial in range(3):  # between passes: the next query finds the connection gone
                wait_until(lambda: len(backends()) == 1, "the relay connected")
                kill()
                OutboxMessage.objects.bulk_create(due_rows(f"idle{trial}"))
                wait_until(all_delivered, f"wave idle{trial} delivered")
            for trial in range(2):  # while its claim waits for a table lock
                with psycopg.connect(**connection_params()) as gate:
                    gate.execute("LOCK TABLE airlock_outbox IN EXCLUSIVE MODE")
                    wait_until(lambda: len(backends("Lock")) == 1, "the relay waiting to claim")
                    kill()
                OutboxMessage.objects.bulk_create(due_rows(f"locked{trial}"))
                wait_until(all_delivered, f"wave locked{trial} delivered")
        stop(looping)
        ((returncode, out, err),) = finish([looping])
    finally:
        if looping.poll() is None:
            finish([looping])
    counts, output = summary(returncode, out, err)
    warnings = [line for line in err.splitlines() if "lost the connection" in line]
    assert len(warnings) == kills == 5, output
    assert all(w.startswith("airlock relay: lost the connection to database") for w in warnings)
    assert "Traceback" not in err, output
    rows = outbox_rows()
    assert len(rows) == 6 * WAVE
    assert {(r.get_status_display(), r.attempts) for r in rows} == {("delivered", 1)}
    ran, twice = check_runs(rows, stack.events.drain(stack.worker))
    assert (ran, twice) == (6 * WAVE, 0)
    assert counts["delivered"] == 6 * WAVE, output
    outbox_figures.append(
        {
            "scenario": "relay's PostgreSQL backend terminated (3 idle, 2 claiming)",
            "trials": kills,
            "committed": len(rows),
            "delivered": ran,
            "duplicates": twice,
        }
    )


def test_a_relay_pass_without_its_database_exits_1_with_one_line(stack: Stack) -> None:
    port = free_port()  # nothing listens there
    env = {**stack.env, "AIRLOCK_TEST_POSTGRES_URL": f"postgresql://postgres@127.0.0.1:{port}/x"}
    done = python(env, "-m", "django", "airlock_relay", "--once")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    (line,) = [line for line in done.stderr.splitlines() if "Error" in line]
    assert line.startswith("CommandError: the outbox's database 'default' cannot be used:")
    assert "OperationalError" in line
