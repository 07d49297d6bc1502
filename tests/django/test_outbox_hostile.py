"""Hostile rows: anyone who can write ``airlock_outbox`` can write anything into it.

Rows here are inserted with raw SQL, as such a writer would. No row may stop the
relay: one it cannot read is ``rejected``, one the executor refuses for good is
``dead``, each with the reason in ``last_error``, and the valid rows behind
them are all delivered.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from airtest import effects
from django.db import connections
from django.test import override_settings
from outbox_stack import (
    TASK,
    Stack,
    check_runs,
    finish,
    label_of,
    outbox_rows,
    spawn,
    summary,
)

from airlock_django.codec import MAX_DEPTH, MAX_PAYLOAD_CHARS
from airlock_django.models import OutboxMessage
from airlock_django.relay import Relay

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "observer", "sqlite"])

REMEMBER = "airtest.effects.remember"
LONG_AGO = datetime(2000, 1, 1, tzinfo=timezone.utc)


def payload(args: Any = (), kwargs: Any = None, options: Any = None) -> str:
    return json.dumps({"args": list(args), "kwargs": kwargs or {}, "options": options or {}})


def tagged(**value: Any) -> str:
    return payload(["tagged"], options={"countdown": {"__airlock__": value.pop("tag"), **value}})


#: (what, payload, what last_error says); the task and executor are valid.
POISON = [
    ("timedelta of 1e308 seconds", tagged(tag="timedelta", seconds=1e308), "1e+308 seconds"),
    (
        "JSON nested 100,000 deep",
        '{"args": ' + "[" * 100_000 + "]" * 100_000 + ', "kwargs": {}, "options": {}}',
        f"nests deeper than {MAX_DEPTH} levels",
    ),
    (
        "nested one level too deep",
        '{"args": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + ', "kwargs": {}, "options": {}}',
        f"nests deeper than {MAX_DEPTH} levels",
    ),
    ("not JSON", "{not json", "not valid JSON"),
    ("a JSON list", "[1, 2]", "payload is a JSON list, not an object"),
    ("JSON null", "null", "payload is a JSON null, not an object"),
    ("a JSON string", '"args"', "payload is a JSON string, not an object"),
    ("args an object", '{"args": {}, "kwargs": {}, "options": {}}', "args is a JSON object"),
    ("kwargs a list", '{"args": [], "kwargs": [], "options": {}}', "kwargs is a JSON list"),
    ("options missing", '{"args": [], "kwargs": {}}', "options is a JSON null"),
    ("NaN", '{"args": [NaN], "kwargs": {}, "options": {}}', "NaN is not a JSON number"),
    ("Infinity", '{"args": [-Infinity], "kwargs": {}, "options": {}}', "-Infinity is not"),
    (
        "two million characters",
        payload(["x" * 2_000_000]),
        f"characters long; a row holds at most {MAX_PAYLOAD_CHARS:,}",
    ),
    ("empty payload", "", "not valid JSON"),
    ("a datetime that is not one", tagged(tag="datetime", value="yesterday"), "'countdown'"),
    ("a naive datetime", tagged(tag="datetime", value="2030-01-01T00:00:00"), "without a timezone"),
    ("a datetime of a number", tagged(tag="datetime", value=5), "datetime without a value"),
    ("a timedelta of a string", tagged(tag="timedelta", seconds="5"), "timedelta without secon"),
    ("a timedelta without seconds", tagged(tag="timedelta"), "timedelta without seconds"),
    ("an unknown tag", tagged(tag="pickle", value="gASV"), "unknown tag 'pickle'"),
]


def insert(*rows: dict[str, Any], using: str = "default") -> None:
    """Rows as a writer with SQL access would insert them: no model, no validation."""
    columns = [
        "intent_id", "task", "executor", "payload", "status", "attempts",
        "enqueued_at", "next_attempt_at", "last_error",
    ]  # fmt: skip
    statement = (
        f"INSERT INTO airlock_outbox ({', '.join(columns)})"
        f" VALUES ({', '.join(['%s'] * len(columns))})"
    )
    connection = connections[using]
    values = [
        {
            "intent_id": uuid.uuid4().hex if connection.vendor == "sqlite" else str(uuid.uuid4()),
            "task": REMEMBER,
            "executor": "sync",
            "payload": payload(),
            "status": 0,
            "attempts": 0,
            "enqueued_at": LONG_AGO,
            "next_attempt_at": LONG_AGO,
            "last_error": "",
            **row,
        }
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(statement, [[row[c] for c in columns] for row in values])


@pytest.fixture(autouse=True)
def outbox() -> Iterator[None]:
    settings = {"EXECUTOR": "sync", "SCOPE": "outbox", "OUTBOX": {"TASKS": [REMEMBER]}}
    with override_settings(AIRLOCK=settings):
        yield


def statuses(using: str = "default") -> list[tuple[str, str]]:
    return [
        (row.get_status_display(), row.last_error)
        for row in OutboxMessage.objects.using(using).order_by("next_attempt_at", "id")
    ]


@pytest.mark.parametrize(("what", "text", "reason"), POISON, ids=[p[0] for p in POISON])
def test_a_row_the_relay_cannot_read_is_rejected_and_the_next_delivered(
    what: str, text: str, reason: str
) -> None:
    insert({"payload": text}, {"payload": payload(["after"])})
    tally = Relay().drain()
    assert (tally.claimed, tally.rejected, tally.delivered) == (2, 1, 1)
    (poison_status, error), after = statuses()
    assert poison_status == "rejected"
    assert error.startswith("rejected: unreadable row: ")
    assert reason in error
    assert len(error) < 300
    assert after == ("delivered", "")
    assert effects.CALLS == [(("after",), {})]


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    tricky = ["[" * 150, '\\"' + "{" * 150, {"key [[[": ["]]]" * 50]}]
    insert({"payload": payload(tricky)})
    assert Relay().drain().delivered == 1
    ((received, _),) = effects.CALLS
    assert list(received) == tricky


def test_the_relay_never_fetches_a_payload_longer_than_a_row_may_hold() -> None:
    """The claim reads a payload's length, not the payload, when it is too long."""
    insert({"payload": payload(["x" * 2_000_000])})
    connection = connections["default"]
    connection.force_debug_cursor = True
    try:
        Relay().drain()
        fetched = [q["sql"] for q in connection.queries if "FROM" in q["sql"]]
    finally:
        connection.force_debug_cursor = False
    claim = next(sql for sql in fetched if "FOR UPDATE" in sql)
    assert '"airlock_outbox"."payload",' not in claim  # only inside LENGTH() and CASE
    assert "LENGTH" in claim.upper()


def test_the_attempt_count_at_its_maximum_does_not_stop_the_relay() -> None:
    insert(
        {"payload": payload(["full count"]), "attempts": 2**31 - 1},
        {"payload": payload(["after"])},
    )
    tally = Relay().drain()
    assert (tally.claimed, tally.delivered) == (2, 2)
    assert [row.attempts for row in OutboxMessage.objects.order_by("id")] == [2**31 - 1, 1]
    assert effects.CALLS == [(("full count",), {}), (("after",), {})]


def test_a_failing_row_at_the_maximum_count_is_dead_without_overflowing() -> None:
    insert({"task": "airtest.effects.flaky", "payload": payload([1]), "attempts": 2**31 - 1})
    effects.BROKEN[0] = True
    with override_settings(
        AIRLOCK={
            "EXECUTOR": "sync",
            "SCOPE": "outbox",
            "OUTBOX": {"TASKS": ["airtest.effects.flaky"], "RETRY_BACKOFF": 5},
        }
    ):
        tally = Relay().drain()
    assert (tally.claimed, tally.dead) == (1, 1)
    (row,) = OutboxMessage.objects.all()
    assert (row.get_status_display(), row.attempts) == ("dead", 2**31 - 1)


def test_names_from_a_row_are_cut_short_in_the_reason() -> None:
    insert({"task": "t" * 200}, {"executor": "e" * 200})
    insert({"payload": payload(["after"])})
    Relay().drain()
    reasons = [error for _, error in statuses()[:2]]
    assert all(len(error) < 300 for error in reasons)
    assert any("the task 'tttt" in error and "(202 characters)" in error for error in reasons)
    assert effects.CALLS == [(("after",), {})]


def test_sqlite_columns_of_the_wrong_type_are_rejected_one_row_at_a_time() -> None:
    """SQLite stores whatever it is given; a value Django cannot read back must not stop it."""
    insert(
        {"payload": payload(["before"])},
        {"payload": payload(["bad id"]), "intent_id": "not a uuid"},
        {"payload": payload(["bad count"]), "attempts": "many"},
        {"payload": 42},
        {"payload": payload(["after"])},
        using="sqlite",
    )
    tally = Relay(using="sqlite").drain()
    assert (tally.claimed, tally.delivered, tally.rejected) == (5, 2, 3)
    rejected = OutboxMessage.objects.using("sqlite").filter(status=OutboxMessage.REJECTED)
    reasons = sorted(rejected.values_list("last_error", flat=True))
    assert reasons == [
        "rejected: a column holds a value of the wrong type",
        "rejected: unreadable row: attempts is 'many', not a number",
        "rejected: unreadable row: the payload is a JSON number, not an object",
    ]
    assert effects.CALLS == [(("before",), {}), (("after",), {})]


# -- the relay process, 500 valid rows behind every kind of poison ------------------

VALID = 500


@pytest.mark.faults
def test_poison_rows_never_stop_the_relay_process(
    stack: Stack, outbox_figures: list[dict[str, Any]]
) -> None:
    """``manage.py airlock_relay --once`` with Celery: each poison row set aside, 500 delivered."""
    poison = [{"task": TASK, "executor": "celery", "payload": text} for _, text, _ in POISON]
    poison += [
        {"task": "os.system", "executor": "celery", "payload": payload(["rm -rf /"])},
        {"task": TASK, "executor": "os.system", "payload": payload(["rm -rf /"])},
    ]
    insert(*poison)
    # valid, although its attempt count is at the column's maximum
    insert({"task": TASK, "executor": "celery", "payload": payload(["max"]), "attempts": 2**31 - 1})
    insert(
        *(
            {"task": TASK, "executor": "celery", "payload": payload([f"valid:{n}"])}
            for n in range(VALID)
        )
    )
    command = ["-m", "django", "airlock_relay", "--once", "--batch-size", "100"]
    ((returncode, out, err),) = finish([spawn(stack.env, *command)])
    counts, output = summary(returncode, out, err, status=3)  # rows were set aside
    assert f"this pass set {len(poison)} row(s) aside (0 dead, {len(poison)} rejected)" in err
    assert counts["claimed"] == len(poison) + VALID + 1, output
    assert (counts["rejected"], counts["delivered"]) == (len(poison), VALID + 1), output

    rows = outbox_rows()
    set_aside = [r for r in rows if r.status == OutboxMessage.REJECTED]
    delivered = [r for r in rows if r.status == OutboxMessage.DELIVERED]
    assert len(set_aside) == len(poison)
    assert all(r.last_error.startswith("rejected: ") for r in set_aside)
    assert len(delivered) == VALID + 1
    ran, twice = check_runs(delivered, stack.events.drain(stack.worker))
    assert (ran, twice) == (VALID + 1, 0)
    assert sorted(label_of(r) for r in delivered) == sorted(
        [*(f"valid:{n}" for n in range(VALID)), "max"]
    )
    outbox_figures.append(
        {
            "scenario": f"{len(poison)} kinds of poison row ahead of {VALID + 1} valid rows",
            "trials": len(poison),
            "committed": len(rows),
            "delivered": ran,
            "duplicates": twice,
            "set_aside": len(set_aside),
        }
    )
