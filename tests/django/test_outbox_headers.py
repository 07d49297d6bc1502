"""An intent's headers (a tracing plugin's, say) are stored with its row and sent by the relay."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from airtest import batching, effects
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

import airlock
from airlock_django.models import OutboxMessage
from airlock_django.relay import Relay

pytestmark = pytest.mark.django_db(
    transaction=True, databases=["default", "observer", "sqlite", "mysql"]
)

BOTH = pytest.mark.parametrize("using", ["default", "sqlite", "mysql"])


class TraceHeaders:
    """The tiny tracing plugin: each intent gets a trace context when it is enqueued."""

    def __init__(self) -> None:
        self.count = 0

    @airlock.hookimpl
    def airlock_intent_enqueued(self, scope: airlock.Scope, intent: airlock.Intent) -> None:
        self.count += 1
        intent.headers = {"traceparent": f"00-{self.count:032x}-{self.count:016x}-01"}


@pytest.fixture(autouse=True)
def tracing() -> Iterator[TraceHeaders]:
    plugin = TraceHeaders()
    airlock.plugins.register(plugin, name="tests.trace_headers")
    try:
        yield plugin
    finally:
        airlock.plugins.unregister("tests.trace_headers")


def use(fast_path: bool) -> Any:
    batching.executor.__init__()  # type: ignore[misc]
    return override_settings(
        AIRLOCK={
            "EXECUTOR": "airtest.batching.executor",
            "SCOPE": "outbox",
            "OUTBOX": {
                "TASKS": ["airtest.effects.remember"],
                "FAST_PATH": fast_path,
                "RELAY_AFTER": 10,
            },
        }
    )


def enqueue_two(using: str) -> None:
    with transaction.atomic(using=using), airlock.scope(using=using):
        airlock.enqueue(effects.remember, 1)
        airlock.enqueue(effects.remember, 2)


def trace(n: int) -> dict[str, str]:
    return {"traceparent": f"00-{n:032x}-{n:016x}-01"}


@BOTH
def test_the_relay_sends_the_headers_the_enqueuer_had(using: str) -> None:
    with use(fast_path=False):
        enqueue_two(using)
        rows = list(OutboxMessage.objects.using(using).order_by("id"))
        assert [row.headers for row in rows] == [trace(1), trace(2)]
        Relay(using=using).drain()
    assert batching.executor.sent == [1, 2]
    assert batching.executor.headers == [trace(1), trace(2)]


@BOTH
def test_the_fast_path_sends_the_same_headers(using: str) -> None:
    with use(fast_path=True):
        enqueue_two(using)
    assert batching.executor.headers == [trace(1), trace(2)]
    assert [r.headers for r in OutboxMessage.objects.using(using).order_by("id")] == [
        trace(1),
        trace(2),
    ]


def test_an_intent_without_headers_stores_null(tracing: TraceHeaders) -> None:
    airlock.plugins.unregister("tests.trace_headers")
    try:
        with use(fast_path=False):
            enqueue_two("default")
            assert [r.headers for r in OutboxMessage.objects.all()] == [None, None]
            Relay().drain()
        assert batching.executor.headers == [None, None]
    finally:
        airlock.plugins.register(tracing, name="tests.trace_headers")


class BadHeaders:
    @airlock.hookimpl
    def airlock_intent_enqueued(self, scope: airlock.Scope, intent: airlock.Intent) -> None:
        intent.headers = {"attempt": 1}  # type: ignore[dict-item]


def test_headers_that_are_not_strings_fail_the_flush_before_a_row_is_written(
    tracing: TraceHeaders,
) -> None:
    airlock.plugins.unregister("tests.trace_headers")
    airlock.plugins.register(BadHeaders(), name="tests.bad_headers")
    try:
        with use(fast_path=False), pytest.raises(airlock.DispatchError, match="headers"):
            enqueue_two("default")
    finally:
        airlock.plugins.unregister("tests.bad_headers")
        airlock.plugins.register(tracing, name="tests.trace_headers")
    assert OutboxMessage.objects.count() == 0


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        (["traceparent"], "the headers are a list, not a dict"),
        ({"n": 1}, "not a string to a string"),
        ({str(i): "x" for i in range(65)}, "more than 64"),
    ],
)
def test_a_row_with_headers_the_outbox_never_writes_is_rejected(
    headers: object, reason: str
) -> None:
    with use(fast_path=False):
        OutboxMessage.objects.create(
            intent_id=uuid.uuid4(),
            task="airtest.effects.remember",
            executor="airtest.batching.executor",
            payload='{"args": [3], "kwargs": {}, "options": {}}',
            headers=headers,
            enqueued_at=timezone.now(),
            next_attempt_at=timezone.now(),
        )
        tally = Relay().drain()
    assert tally.rejected == 1
    [row] = OutboxMessage.objects.all()
    assert row.status == OutboxMessage.REJECTED
    assert reason in row.last_error
    assert batching.executor.sent == []
