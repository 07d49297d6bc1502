"""What a real worker receives when airlock publishes, on Redis and on RabbitMQ."""

from __future__ import annotations

import time

from worker_app import EMAILS, QUEUE

import airlock
from airlock.integrations.executors.celery import celery_executor
from airlock_celery import CeleryExecutor


def test_flush_publishes_each_intent_once_in_order(side, observations):
    label = observations.label()
    record = side.task("record")
    with airlock.scope(executor=celery_executor) as scope:
        for number in range(25):
            airlock.enqueue(record, label, number)
        assert observations.get(label) == []  # nothing escaped while the scope was open
    assert scope.is_flushed
    seen = observations.wait(label, 25)
    assert sorted(s["value"] for s in seen) == list(range(25))
    assert len({s["id"] for s in seen}) == 25


def test_queue_option_reaches_only_the_worker_on_that_queue(side, observations):
    label = observations.label()
    with airlock.scope(executor="celery"):
        airlock.enqueue(
            side.task("record"), label, "to-emails", _dispatch_options={"queue": EMAILS}
        )
        airlock.enqueue(side.task("record"), label, "to-default")
    seen = {s["value"]: s for s in observations.wait(label, 2)}
    assert seen["to-emails"]["hostname"] == side.workers["emails"].hostname
    assert seen["to-emails"]["routing_key"] == EMAILS
    assert seen["to-default"]["hostname"] == side.workers["default"].hostname


def test_countdown_priority_headers_and_task_id_pass_through(side, observations):
    label = observations.label()
    sent_at = time.time()
    with airlock.scope(executor="celery"):
        airlock.enqueue(
            side.task("record"),
            label,
            "delayed",
            _dispatch_options={
                "countdown": 2,
                "priority": 7,
                "headers": {"x_trace": "trace-1"},
                "task_id": "celery-fixed-id-" + label,
            },
        )
    (seen,) = observations.wait(label)
    assert seen["eta"] is not None
    # The worker ran it no earlier than the countdown (50 ms for clock granularity).
    assert seen["at"] >= sent_at + 2 - 0.05
    assert seen["priority"] == 7
    assert seen["trace"] == "trace-1"
    assert seen["id"] == "celery-fixed-id-" + label


def test_caller_chosen_task_id_reaches_the_worker(side, observations):
    """The executor's message id option, alone and in a batched flush (the outbox relies on it)."""
    label = observations.label()
    record = side.task("record")
    executor = CeleryExecutor()
    option = executor.message_id_option
    assert option == "task_id"
    executor(airlock.Intent(record, (label, "single"), {}, {option: f"{label}-single"}))
    with airlock.scope(executor=executor):
        for number in range(3):
            airlock.enqueue(record, label, number, _dispatch_options={option: f"{label}-{number}"})
    seen = {s["value"]: s["id"] for s in observations.wait(label, 4)}
    assert seen == {"single": f"{label}-single", **{n: f"{label}-{n}" for n in range(3)}}


def test_same_messages_as_apply_async(side, observations):
    """A flushed intent and a direct apply_async() arrive with the same headers and routing."""
    label = observations.label()
    record = side.task("record")
    record.apply_async((label, "direct"), {"extra": 1}, priority=3, queue=QUEUE)
    with airlock.scope(executor="celery"):
        airlock.enqueue(
            record, label, "airlock", extra=1, _dispatch_options={"priority": 3, "queue": QUEUE}
        )
    direct, buffered = sorted(observations.wait(label, 2), key=lambda s: s["value"] != "direct")
    for key in ("hostname", "routing_key", "priority", "extra", "eta", "trace"):
        assert direct[key] == buffered[key], key


def test_flush_inside_a_worker_task_matches_apply_async(side, observations):
    """Sent from a running task: the same parent and root ids, routing and priority."""
    label = observations.label()
    result = side.task("scoped_pair").delay(label)
    seen = {s["value"]: s for s in observations.wait(label, 3)}
    direct = seen.pop("direct")
    assert direct["parent_id"] == direct["root_id"] == result.id
    for buffered in seen.values():
        for key in ("parent_id", "root_id", "hostname", "routing_key", "priority", "extra", "eta"):
            assert buffered[key] == direct[key], key


def test_scoped_task_flushes_on_success(side, observations):
    label = observations.label()
    side.task("scoped_order").delay(label)
    seen = observations.wait(label, 2)
    assert sorted(s["value"] for s in seen) == ["analytics", "email"]


def test_scoped_task_discards_on_exception(side, observations, until_drained):
    label = observations.label()
    result = side.task("scoped_order").delay(label, fail=True)
    observations.wait("done:" + result.id)
    until_drained(side)
    assert observations.get(label + ":ran") == [{"fail": True}]
    assert observations.get(label) == []


def test_scoped_task_discards_a_retried_run(side, observations):
    label = observations.label()
    side.task("scoped_retry").delay(label)
    observations.wait(label + ":ran", 2)
    seen = observations.wait(label)
    assert [s["value"] for s in seen] == ["attempt-1"]


def test_scoped_task_base_class(side, observations, until_drained):
    label, failing = observations.label(), observations.label()
    side.task("based_order").delay(label)
    result = side.task("based_order").delay(failing, fail=True)
    assert [s["value"] for s in observations.wait(label)] == ["email"]
    observations.wait("done:" + result.id)
    until_drained(side)
    assert observations.get(failing) == []


def test_block_tasks_stops_the_reentrant_cascade(side, observations, until_drained):
    """enrich_from_api: saving the user inside the task does not re-enqueue it."""
    user_id = int(time.time() * 1000) % 1_000_000
    with airlock.scope(executor="celery"):
        side.app.User(user_id).save()  # a plain save enqueues the enrichment
    usage = observations.wait(f"api-usage:{user_id}")
    until_drained(side)
    until_drained(side)
    assert len(observations.get(f"enrich:{user_id}")) == 1
    assert usage == [{"data": {"age": 42, "income": 1000}}]
    stored = observations.client.hgetall(f"celery:user:{user_id}")
    assert stored == {b"age": b"42", b"income": b"1000"}


def test_signatures_and_canvas_are_sent_with_their_own_apply_async(side, observations):
    from celery import chain

    label = observations.label()
    record = side.task("record")
    with airlock.scope(executor="celery"):
        airlock.enqueue(record, label, "task")
        airlock.enqueue(record.s(label, "signature"), _dispatch_options={"queue": EMAILS})
        airlock.enqueue(chain(record.si(label, "first"), record.si(label, "second")))
    seen = {s["value"]: s for s in observations.wait(label, 4)}
    assert set(seen) == {"task", "signature", "first", "second"}
    assert seen["signature"]["hostname"] == side.workers["emails"].hostname
