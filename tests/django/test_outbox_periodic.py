"""``relay_pass``: one bounded relay pass for a scheduler (Celery beat) to call."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from airtest import effects
from django.core.checks import run_checks
from django.db import transaction
from django.test import override_settings

import airlock
from airlock_django.models import OutboxMessage, RelayHeartbeat
from airlock_django.periodic import relay_pass

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sqlite", "mysql"])

BACKENDS = pytest.mark.parametrize("using", ["default", "sqlite", "mysql"])


@pytest.fixture(autouse=True)
def relay_only() -> Iterator[None]:
    setting = {
        "EXECUTOR": "sync",
        "SCOPE": "outbox",
        "OUTBOX": {"TASKS": ["airtest.effects.remember"], "FAST_PATH": False},
    }
    with override_settings(AIRLOCK=setting):
        yield


def store(using: str, count: int) -> None:
    with transaction.atomic(using=using), airlock.scope(using=using):
        for label in range(count):
            airlock.enqueue(effects.remember, label)


@BACKENDS
def test_a_pass_delivers_every_due_row_and_leaves_a_heartbeat(using: str) -> None:
    store(using, 250)
    counts = relay_pass(every=10, using=using, batch_size=100)
    assert (counts["claimed"], counts["delivered"], counts["batches"]) == (250, 250, 3)
    assert [args for args, _ in effects.CALLS] == [(n,) for n in range(250)]
    assert not OutboxMessage.objects.using(using).exclude(status=OutboxMessage.DELIVERED).exists()
    [beat] = RelayHeartbeat.objects.using(using).all()
    assert (beat.name, beat.database, beat.stale_after) == (f"periodic:{using}", using, 30)


def test_the_periodic_heartbeat_satisfies_the_relay_check() -> None:
    warned = [
        m.id for m in run_checks(tags=["airlock"], databases=["default"]) if m.id == "airlock.W004"
    ]
    assert warned == ["airlock.W004"]
    relay_pass(every=60)
    assert [
        m.id for m in run_checks(tags=["airlock"], databases=["default"]) if m.id == "airlock.W004"
    ] == []


def test_a_pass_stops_at_its_time_budget_and_leaves_the_rest_due() -> None:
    store("default", 30)
    counts = relay_pass(every=10, batch_size=10, max_seconds=1e-9)
    assert (counts["batches"], counts["delivered"]) == (1, 10)  # one batch, then out of time
    assert OutboxMessage.objects.filter(status=OutboxMessage.PENDING).count() == 20
    assert relay_pass(every=10, batch_size=10)["delivered"] == 20


@pytest.mark.parametrize(("every", "max_seconds"), [(0, None), (-1, None), (10, 0)])
def test_a_period_or_budget_that_is_not_positive_is_refused(
    every: float, max_seconds: float | None
) -> None:
    with pytest.raises(ValueError, match="above 0"):
        relay_pass(every=every, max_seconds=max_seconds)


def test_the_pages_celery_beat_example_relays() -> None:
    import sys
    from pathlib import Path

    examples = Path(__file__).resolve().parents[2] / "docs" / "examples" / "outbox_relay"
    assert (
        "docs/examples/outbox_relay/celery_beat.py"
        in (examples.parents[2] / "docs" / "outbox-relay.md").read_text()
    )
    from celery import current_app

    previous = current_app._get_current_object()  # the example's app becomes current
    sys.path.insert(0, str(examples))
    try:
        import celery_beat

        assert celery_beat.app.conf.beat_schedule["relay-outbox"]["schedule"] == 10.0
        store("default", 3)
        counts = celery_beat.relay_outbox.apply().get(timeout=10)  # run as a worker would
        assert counts["delivered"] == 3
    finally:
        sys.path.remove(str(examples))
        previous.set_current()
    celery_beat.app.close()
