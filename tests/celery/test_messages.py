"""The executor sends the very messages ``.apply_async()`` sends, byte for byte.

Each case publishes the same calls twice with the same task ids, once with
``task.apply_async()`` and once through the executor (a batched flush, and a
single dispatch), and compares what lands in Redis: headers, properties and
body, all but kombu's random ``delivery_tag``. The batch holds several messages
per case, so both the first message of a queue (which declares it) and the
later ones are compared. The publish signals are compared the same way.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any

import pytest
from celery.signals import after_task_publish, before_task_publish
from worker_app import make_app

import airlock
from airlock_celery import CeleryExecutor

UNREAD = "celery_golden"
EXTRA = "celery_golden_extra"
COPIES = 3


@pytest.fixture(scope="module")
def app(broker_redis_url, observe_url):
    app = make_app(broker_redis_url, observe_url, name="airlock_celery_golden")
    app.conf.update(
        task_default_queue=UNREAD, task_default_exchange=UNREAD, task_default_routing_key=UNREAD
    )

    @app.task(name="airlock_tests.golden_typed", shared=False)
    def typed(order_id: int, note: str = "") -> None:
        """Never runs: nothing consumes the golden queues."""

    @app.task(
        name="airlock_tests.golden_limits",
        shared=False,
        ignore_result=False,
        time_limit=30,
        soft_time_limit=20,
    )
    def with_limits(order_id: int) -> None:
        """Never runs; its messages carry ignore_result=False and its time limits."""

    yield app
    app.close()


@pytest.fixture
def queues(redis_broker):
    """Read and empty the golden queues, with kombu's per-priority lists (oldest first)."""

    def drain() -> list[dict[str, Any]]:
        messages = []
        for key in sorted(redis_broker.keys("celery_golden*")):
            raw = redis_broker.lrange(key, 0, -1)
            redis_broker.delete(key)
            messages += [_comparable(json.loads(m)) for m in reversed(raw)]
        return messages

    drain()
    yield drain
    drain()


def _comparable(message: dict[str, Any]) -> dict[str, Any]:
    properties = dict(message["properties"])
    properties.pop("delivery_tag")  # kombu's own random uuid, per publish
    return {**message, "properties": properties, "body": base64.b64decode(message["body"])}


CASES = {
    "plain": ("record", ("golden", 1), {}, {}),
    "kwargs and quotes": ("record", ("it's", 'a "quote"'), {"extra": [1, {"a": None}]}, {}),
    "priority and headers": ("record", ("golden",), {}, {"priority": 7, "headers": {"x_t": "1"}}),
    "queue by name": ("record", ("golden",), {}, {"queue": EXTRA}),
    "routing key": ("record", ("golden",), {}, {"routing_key": EXTRA}),
    "serializer and compression": (
        "record",
        ("golden", 2),
        {},
        {"serializer": "pickle", "compression": "zlib", "delivery_mode": 1},
    ),
    "typed task": ("golden_typed", (5,), {"note": "n"}, {}),
    "task time limits, results": ("golden_limits", (6,), {}, {}),
    # Options the executor leaves to apply_async() itself:
    "eta": ("record", ("golden",), {}, {"eta": datetime(2031, 1, 2, 3, 4, tzinfo=timezone.utc)}),
    "unknown option": ("record", ("golden",), {}, {"not_a_celery_option": "kept"}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_flush_sends_what_apply_async_sends(app, queues, case):
    short, args, kwargs, options = CASES[case]
    task = app.tasks[f"airlock_tests.{short}"]
    ids = [f"golden-{case}-{n}" for n in range(COPIES)]
    for task_id in ids:
        task.apply_async(args, kwargs, task_id=task_id, **options)
    direct = queues()
    with airlock.scope(executor=CeleryExecutor()):
        for task_id in ids:
            airlock.enqueue(
                task, *args, _dispatch_options={**options, "task_id": task_id}, **kwargs
            )
    assert queues() == direct
    assert len(direct) == COPIES
    for task_id in ids:
        CeleryExecutor()(airlock.Intent(task, args, kwargs, {**options, "task_id": task_id}))
    assert queues() == direct


def test_publish_signals_are_sent_with_the_same_arguments(app, queues):
    seen: list[tuple[str, dict[str, Any]]] = []

    def before(sender, body, exchange, routing_key, headers, properties, declare, **extra):
        names = [entity.name for entity in declare or ()]
        seen.append(("before", _signal(sender, body, exchange, routing_key, headers, names)))
        seen.append(("properties", dict(properties)))

    def after(sender, body, exchange, routing_key, headers, **extra):
        seen.append(("after", _signal(sender, body, exchange, routing_key, headers, None)))

    before_task_publish.connect(before, weak=False)
    after_task_publish.connect(after, weak=False)
    try:
        record = app.tasks["airlock_tests.record"]
        for number in range(COPIES):
            record.apply_async(("sig", number), task_id=f"sig-{number}", priority=2)
        direct, seen[:] = list(seen), []
        with airlock.scope(executor="celery"):
            for number in range(COPIES):
                airlock.enqueue(
                    record,
                    "sig",
                    number,
                    _dispatch_options={"task_id": f"sig-{number}", "priority": 2},
                )
    finally:
        before_task_publish.disconnect(before)
        after_task_publish.disconnect(after)
    assert seen == direct
    assert [kind for kind, _ in direct].count("after") == COPIES


def _signal(sender, body, exchange, routing_key, headers, declare):
    return {
        "sender": sender,
        "body": json.dumps(body, default=repr),
        "exchange": getattr(exchange, "name", exchange),
        "routing_key": routing_key,
        "headers": dict(headers),
        "declare": declare,
    }


def test_wrong_arguments_fail_at_the_enqueue_call_like_apply_async(app, queues):
    typed = app.tasks["airlock_tests.golden_typed"]
    with pytest.raises(TypeError) as direct:
        typed.apply_async((1, "two", "three"))

    with airlock.scope(executor="celery"):
        airlock.enqueue(typed, 1)
        with pytest.raises(airlock.TaskArgumentError) as refused:
            airlock.enqueue(typed, 1, "two", "three")
        airlock.enqueue(typed, 3)
    assert isinstance(refused.value, TypeError)
    assert str(direct.value) in str(refused.value)
    assert [m["headers"]["argsrepr"] for m in queues()] == ["(1,)", "(3,)"]


def test_wrong_arguments_that_reach_the_executor_fail_at_flush_like_apply_async(app, queues):
    """Arguments that reach the executor unchecked (a stored row) fail there as in Celery.

    ``airlock.enqueue()`` refuses them at the call; an intent built elsewhere
    (the outbox relay, a task exempt from that check) meets Celery's own check.
    """
    typed = app.tasks["airlock_tests.golden_typed"]
    with pytest.raises(TypeError) as direct:
        typed.apply_async((1, "two", "three"))
    intents = [airlock.Intent(typed, args, {}, None) for args in [(1,), (1, "two", "three"), (3,)]]
    with pytest.raises(airlock.DispatchError) as flushed:
        CeleryExecutor().dispatch_many(intents)
    ((intent, cause),) = flushed.value.failed
    assert intent.args == (1, "two", "three")
    assert type(cause) is TypeError
    assert str(cause) == str(direct.value)
    assert flushed.value.pending == intents[2:]
    assert [m["headers"]["argsrepr"] for m in queues()] == ["(1,)"]
