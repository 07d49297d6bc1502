"""Caller-chosen job ids (``job_id``): the worker runs the job under exactly the id given."""

from __future__ import annotations

from typing import Any

import pytest
import rq_jobs
from conftest import results
from redis import Redis
from rq import Queue
from rq.job import Job

import airlock
import airlock_rq
from airlock_rq import RQExecutor

pytestmark = [pytest.mark.redis, pytest.mark.slow]

IDS = "rq_ids"


def flush(calls: list[tuple[int, dict[str, Any]]]) -> None:
    """Enqueue ``record("x", value)`` on the ids queue with each value's options, one scope."""
    with airlock.scope(executor="rq"):
        for value, options in calls:
            airlock.enqueue(rq_jobs.record, "x", value, _dispatch_options={"queue": IDS, **options})


def test_the_option_is_named_on_the_executor() -> None:
    assert RQExecutor.message_id_option == "job_id"
    assert airlock_rq.rq_executor.message_id_option == "job_id"


def test_a_flush_sends_the_given_ids(configured: Redis, run_worker) -> None:
    option = airlock_rq.rq_executor.message_id_option
    with airlock.scope(executor="rq"):
        airlock.enqueue(rq_jobs.record_job, "ids", _dispatch_options={"queue": IDS, option: "a-1"})
        airlock.enqueue(rq_jobs.record_job, "ids", _dispatch_options={"queue": IDS})
        airlock.enqueue(rq_jobs.record_job, "ids", _dispatch_options={"queue": IDS, option: "a-3"})
        # depends_on goes out on its own (Queue.enqueue_call), between two batches
        after = {"queue": IDS, option: "a-4", "depends_on": "a-1"}
        airlock.enqueue(rq_jobs.record_job, "ids", _dispatch_options=after)
        airlock.enqueue(rq_jobs.record_job, "ids", _dispatch_options={"queue": IDS, option: "a-5"})
    queued = Queue(IDS, connection=configured).job_ids
    assert [queued[0], *queued[2:]] == ["a-1", "a-3", "a-5"]
    run_worker(IDS)
    # The one without an id got RQ's own; a-4 ran once a-1 had finished.
    ran = ["a-1", queued[1], "a-3", "a-5", "a-4"]
    assert results(configured, "ids") == [f"{IDS}:{job_id}" for job_id in ran]


def test_a_batched_job_is_the_job_enqueue_would_make(configured: Redis) -> None:
    options = {"queue": IDS, "job_id": "batched", "result_ttl": 50, "meta": {"m": 1}}
    with airlock.scope(executor="rq"):
        airlock.enqueue(rq_jobs.record, "k", 1, _dispatch_options=options)
        airlock.enqueue(rq_jobs.record, "k", 2, _dispatch_options={**options, "job_id": "other"})
    Queue(IDS, connection=configured).enqueue(
        rq_jobs.record, "k", 1, job_id="direct", result_ttl=50, meta={"m": 1}
    )
    batched = Job.fetch("batched", connection=configured)
    direct = Job.fetch("direct", connection=configured)
    for name in ("func_name", "args", "kwargs", "origin", "result_ttl", "meta", "timeout"):
        assert getattr(batched, name) == getattr(direct, name), name


def test_an_id_given_twice_in_a_flush_does_what_two_enqueue_calls_do(configured: Redis) -> None:
    """RQ 3's enqueue_many refuses a repeated id; the flush starts a new batch there instead."""
    with airlock.scope(executor="rq"):
        airlock.enqueue(rq_jobs.record, "t", 1, _dispatch_options={"queue": IDS, "job_id": "t-1"})
        airlock.enqueue(rq_jobs.record, "t", 2, _dispatch_options={"queue": IDS, "job_id": "t-1"})
        airlock.enqueue(rq_jobs.record, "t", 3, _dispatch_options={"queue": IDS})
    looped = Queue(f"{IDS}_loop", connection=configured)
    looped.enqueue(rq_jobs.record, "t", 1, job_id="t-2")
    looped.enqueue(rq_jobs.record, "t", 2, job_id="t-2")
    looped.enqueue(rq_jobs.record, "t", 3)

    flushed_ids = Queue(IDS, connection=configured).job_ids
    looped_ids = looped.job_ids
    assert flushed_ids.count("t-1") == looped_ids.count("t-2") >= 1
    assert len(flushed_ids) == len(looped_ids) == 3
    assert Job.fetch("t-1", connection=configured).args == ("t", 2)
    assert Job.fetch("t-2", connection=configured).args == ("t", 2)


def test_a_single_dispatch_uses_the_given_id(configured: Redis, run_worker) -> None:
    airlock_rq.rq_executor(
        airlock.Intent(
            rq_jobs.record_job, ("single",), dispatch_options={"queue": IDS, "job_id": "one-7"}
        )
    )
    run_worker(IDS)
    assert results(configured, "single") == [f"{IDS}:one-7"]


@pytest.mark.parametrize("bad", ["", 42, b"job-1"])
def test_a_bad_job_id_fails_that_intent(configured: Redis, bad: Any) -> None:
    calls = [(1, {}), (2, {"job_id": bad}), (3, {})]
    with pytest.raises(airlock.DispatchError) as caught:
        flush(calls)
    error = caught.value
    assert [i.args for i in error.dispatched] == [("x", 1)]
    [(intent, exc)] = error.failed
    assert intent.args == ("x", 2)
    assert isinstance(exc, airlock.UsageError)
    assert "'job_id'" in str(exc)
    assert "non-empty string" in str(exc)
    assert [i.args for i in error.pending] == [("x", 3)]
    assert Queue(IDS, connection=configured).count == 1
