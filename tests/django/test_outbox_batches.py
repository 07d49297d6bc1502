"""The relay publishes a batch through ``dispatch_many``; one UPDATE per outcome records it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from airtest import batching
from django.db import connections, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

import airlock
from airlock_django.models import OutboxMessage
from airlock_django.relay import Relay

pytestmark = pytest.mark.django_db(
    transaction=True, databases=["default", "observer", "sqlite", "mysql"]
)

BOTH = pytest.mark.parametrize("using", ["default", "sqlite", "mysql"])


@pytest.fixture(autouse=True)
def batch_executor() -> Iterator[batching.ScriptedBatches]:
    batching.executor.__init__()  # type: ignore[misc]
    setting = {
        "EXECUTOR": "airtest.batching.executor",
        "SCOPE": "outbox",
        "OUTBOX": {"TASKS": ["airtest.effects.remember"], "FAST_PATH": False, "MAX_ATTEMPTS": 5},
    }
    with override_settings(AIRLOCK=setting):
        yield batching.executor


def store(using: str, count: int) -> None:
    from airtest import effects

    with transaction.atomic(using=using), airlock.scope(using=using):
        for label in range(count):
            airlock.enqueue(effects.remember, label)


def by_label(using: str) -> dict[int, OutboxMessage]:
    rows = OutboxMessage.objects.using(using).order_by("id")
    return {i: row for i, row in enumerate(rows)}


def updates(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]


@BOTH
def test_a_batch_goes_out_in_one_dispatch_many_and_one_update(
    using: str, batch_executor: batching.ScriptedBatches
) -> None:
    store(using, 500)
    with CaptureQueriesContext(connections[using]) as queries:
        tally = Relay(using=using, batch_size=500).relay_batch()
    assert (tally.claimed, tally.delivered) == (500, 500)
    assert batch_executor.batches == [list(range(500))]
    assert len(updates(queries)) == 1
    rows = by_label(using).values()
    assert {(r.status, r.attempts) for r in rows} == {(OutboxMessage.DELIVERED, 1)}


@BOTH
def test_each_row_of_a_mixed_batch_is_accounted_for_in_one_update_per_outcome(
    using: str, batch_executor: batching.ScriptedBatches
) -> None:
    store(using, 20)
    ids = {label: row.pk for label, row in by_label(using).items()}
    OutboxMessage.objects.using(using).filter(pk=ids[11]).update(attempts=4)  # its last try
    OutboxMessage.objects.using(using).filter(pk=ids[12]).update(attempts=2)
    batch_executor.script = {5: "refuse", 10: "down"}
    with CaptureQueriesContext(connections[using]) as queries:
        tally = Relay(using=using, batch_size=20).relay_batch()
    assert batch_executor.batches == [list(range(20)), list(range(6, 20))]
    assert batch_executor.sent == [0, 1, 2, 3, 4, 6, 7, 8, 9]
    # delivered, retry, dead; the rows after the failure are left as they were, due now
    assert len(updates(queries)) == 3
    assert (tally.delivered, tally.failed, tally.dead, tally.untried) == (9, 2, 2, 7)
    rows = by_label(using)
    for label in [0, 1, 2, 3, 4, 6, 7, 8, 9]:
        assert (rows[label].status, rows[label].attempts) == (OutboxMessage.DELIVERED, 1)
    assert (rows[5].status, rows[5].attempts) == (OutboxMessage.DEAD, 1)
    assert rows[5].last_error.startswith("permanent failure, not retried: ValueError")
    # the run in flight when the connection dropped: uncertain, so retried (or dead: last try)
    assert (rows[10].status, rows[10].attempts) == (OutboxMessage.PENDING, 1)
    assert (rows[11].status, rows[11].attempts) == (OutboxMessage.DEAD, 5)
    assert (rows[12].status, rows[12].attempts) == (OutboxMessage.PENDING, 3)
    assert rows[12].next_attempt_at > rows[10].next_attempt_at  # backoff doubles per attempt
    assert all(rows[label].last_error == "ConnectionError: reset by peer" for label in (10, 11, 12))
    for label in range(13, 20):
        assert (rows[label].status, rows[label].attempts) == (OutboxMessage.PENDING, 0)
        assert rows[label].last_error == ""
    batch_executor.script = {}
    assert Relay(using=using, batch_size=20).relay_batch().delivered == 7  # due at once
