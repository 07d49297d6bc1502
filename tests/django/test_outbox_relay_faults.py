"""Relays under faults, on PostgreSQL and on MariaDB: several at once, one killed, wake-ups lost.

The relays are real ``manage.py airlock_relay`` processes on the test
database; their executor (airtest/recording.py) pushes every message it
publishes to a Redis list, so the test sees each publish, duplicates included,
with the message id it went out under.
"""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.db import connections
from django.utils import timezone
from outbox_stack import WAIT, finish, project_env, python, spawn, stop, summary, wait_until

from airlock_django.models import OutboxMessage

pytestmark = [
    pytest.mark.faults,
    pytest.mark.slow,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, databases=["default", "mysql"]),
]

STACK = os.environ.get("AIRLOCK_TEST_STACK", "local")
KEY = f"django_relay_faults_{STACK}"
EXECUTOR = "airtest.recording.executor"
TASK = "airtest.fault_tasks.record"
BACKENDS = pytest.mark.parametrize("alias", ["default", "mysql"], ids=["postgresql", "mariadb"])


@pytest.fixture
def events(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url.rsplit("/", 1)[0] + "/5")
    client.delete(KEY, f"{KEY}:paused")
    yield client
    client.delete(KEY, f"{KEY}:paused")
    client.close()


def relay_env(alias: str, events: redis.Redis, **extra: str) -> dict[str, str]:
    url = "redis://{host}:{port}/{db}".format(**events.connection_pool.connection_kwargs)
    env = project_env(url, url, f"unused_{STACK}", AIRTEST_EXECUTOR=EXECUTOR, **extra)
    env["AIRTEST_EVENTS_KEY"] = KEY
    if alias == "mysql":
        env["AIRTEST_DB_BACKEND"] = "mysql"
        env["AIRTEST_MYSQL_DB_NAME"] = connections["mysql"].settings_dict["NAME"]
    return env


def store(alias: str, count: int) -> list[str]:
    """``count`` committed rows, due now, as FAST_PATH=False leaves them; their ids."""
    now = timezone.now()
    rows = [
        OutboxMessage(
            intent_id=uuid.uuid4(),
            task=TASK,
            executor=EXECUTOR,
            payload=json.dumps({"args": [f"r{n}"], "kwargs": {}, "options": {}}),
            enqueued_at=now,
            next_attempt_at=now,
        )
        for n in range(count)
    ]
    OutboxMessage.objects.using(alias).bulk_create(rows, batch_size=2000)
    return [str(row.intent_id) for row in rows]


def published(events: redis.Redis) -> Counter[str]:
    """How often each message id was published."""
    return Counter(entry.decode().split(" ", 1)[0] for entry in events.lrange(KEY, 0, -1))


def status_counts(alias: str) -> dict[int, int]:
    return Counter(OutboxMessage.objects.using(alias).values_list("status", flat=True))


ROWS = 20_000
RELAYS = 4


@BACKENDS
def test_four_relays_at_once_publish_each_of_20000_rows_exactly_once(
    alias: str, events: redis.Redis, outbox_figures: list[dict[str, Any]]
) -> None:
    ids = store(alias, ROWS)
    env = relay_env(alias, events)
    command = ["-m", "django", "airlock_relay", "--once", "--batch-size", "500"]
    tallies = [summary(*ended)[0] for ended in finish([spawn(env, *command) for _ in range(4)])]
    assert sum(t["delivered"] for t in tallies) == ROWS, tallies
    assert sum(1 for t in tallies if t["delivered"]) >= 2, tallies  # they did share the work
    counts = published(events)
    assert set(counts) == set(ids)  # none lost, nothing that is not a row
    assert max(counts.values()) == 1  # no duplicate
    assert status_counts(alias) == {OutboxMessage.DELIVERED: ROWS}
    outbox_figures.append(
        {
            "scenario": f"{RELAYS} relays at once ({alias})",
            "trials": 1,
            "committed": ROWS,
            "delivered": len(counts),
            "duplicates": sum(counts.values()) - len(counts),
        }
    )


KILLED_ROWS = 300
PAUSE_AFTER = 120


@BACKENDS
def test_a_relay_killed_mid_batch_leaves_its_rows_to_the_next_with_the_same_ids(
    alias: str, events: redis.Redis, outbox_figures: list[dict[str, Any]]
) -> None:
    ids = store(alias, KILLED_ROWS)
    env = relay_env(alias, events, AIRTEST_PAUSE_AFTER=str(PAUSE_AFTER))
    victim = spawn(env, "-m", "django", "airlock_relay", "--once", "--batch-size", "200")
    try:
        wait_until(lambda: events.get(f"{KEY}:paused") is not None, "the relay paused mid-batch")
        before = published(events)
        assert sum(before.values()) == PAUSE_AFTER  # the first batch was part-way out
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=WAIT)
    finally:
        stop(victim)
    finish([victim])

    # its transaction dies with its connection: the rows it held are pending again
    wait_until(
        lambda: status_counts(alias) == {OutboxMessage.PENDING: KILLED_ROWS},
        "the killed relay's claim rolled back",
    )
    done = python(relay_env(alias, events), "-m", "django", "airlock_relay", "--once")
    counts, output = summary(done.returncode, done.stdout, done.stderr)
    assert counts["delivered"] == KILLED_ROWS, output
    after = published(events)
    assert set(after) == set(ids)
    again = {i for i, n in after.items() if n == 2}
    assert again == set(before)  # the same ids went out again, and only those
    assert max(after.values()) == 2
    rows = OutboxMessage.objects.using(alias)
    assert {(r.status, r.attempts) for r in rows} == {(OutboxMessage.DELIVERED, 1)}
    outbox_figures.append(
        {
            "scenario": f"relay SIGKILLed mid-batch ({alias})",
            "trials": 1,
            "committed": KILLED_ROWS,
            "delivered": len(after),
            "duplicates": sum(after.values()) - len(after),
        }
    )


LATE_ROWS = 50


def listening_backends(alias: str) -> list[int]:
    """The PostgreSQL backends that LISTEN (the relay's waiting connection)."""
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name LIKE %s",
            ["% (listener)"],
        )
        return [pid for (pid,) in cursor.fetchall()]


@BACKENDS
def test_without_a_wake_up_the_poll_still_delivers(
    alias: str, events: redis.Redis, outbox_figures: list[dict[str, Any]]
) -> None:
    env = relay_env(alias, events)
    looping = spawn(env, "-m", "django", "airlock_relay", "--loop", "--interval", "1")
    try:
        if alias == "default":
            # the relay's LISTEN connection dies: the NOTIFY of the next commit reaches nobody
            wait_until(lambda: bool(listening_backends(alias)), "the relay listens")
            with connections[alias].cursor() as cursor:
                for pid in listening_backends(alias):
                    cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            with connections[alias].cursor() as cursor:  # as the scope sends it: to nobody
                cursor.execute("NOTIFY airlock_outbox")
        started = time.monotonic()
        ids = store(alias, LATE_ROWS)
        wait_until(
            lambda: status_counts(alias) == {OutboxMessage.DELIVERED: LATE_ROWS},
            "the poll delivered the rows",
        )
        waited = time.monotonic() - started
    finally:
        looping.send_signal(signal.SIGTERM)
    [(returncode, stdout, stderr)] = finish([looping])
    assert returncode == 0, stderr
    counts = published(events)
    assert set(counts) == set(ids)
    assert max(counts.values()) == 1
    if alias == "mysql":
        assert "has no LISTEN/NOTIFY" in stdout, stdout
    else:
        assert "woken by each commit" in stdout, stdout
        assert "cannot LISTEN on database" in stderr, stderr  # it says it polls meanwhile
    outbox_figures.append(
        {
            "scenario": f"wake-up lost, poll delivers in {waited:.1f}s ({alias})",
            "trials": 1,
            "committed": LATE_ROWS,
            "delivered": len(counts),
            "duplicates": sum(counts.values()) - len(counts),
        }
    )
