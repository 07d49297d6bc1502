"""The rq executor publishes to Redis; a real ``rq worker`` runs what it published."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
import rq_jobs
from conftest import results
from redis import Redis
from rq import Queue, Retry
from rq.job import Job

import airlock
import airlock_rq

pytestmark = [pytest.mark.redis, pytest.mark.slow]

BASIC = {"queue": "rq_basic"}


def test_flush_enqueues_functions_and_dotted_paths(configured: Redis, run_worker) -> None:
    with airlock.scope(executor="rq"):
        airlock.enqueue(rq_jobs.record, "basic", 1, _dispatch_options={"queue": "rq_basic"})
        airlock.enqueue("rq_jobs.record", "basic", 2, _dispatch_options={"queue": "rq_basic"})
        airlock.enqueue(rq_jobs.record, key="basic", value=3, _dispatch_options=BASIC)
        assert Queue("rq_basic", connection=configured).count == 0  # buffered, not sent
    assert Queue("rq_basic", connection=configured).count == 3
    run_worker("rq_basic")
    assert results(configured, "basic") == ["1", "2", "3"]


def test_nothing_escapes_when_the_block_raises(configured: Redis) -> None:
    def fail() -> None:
        with airlock.scope(executor="rq"):
            airlock.enqueue(rq_jobs.record, "never", 1, _dispatch_options=BASIC)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail()
    assert Queue("rq_basic", connection=configured).count == 0


def test_default_queue_is_configurable(configured: Redis, run_worker) -> None:
    airlock_rq.configure(default_queue="rq_fallback")
    with airlock.scope(executor="rq"):
        airlock.enqueue(rq_jobs.record_job, "fallback")
    run_worker("rq_fallback")
    [entry] = results(configured, "fallback")
    assert entry.startswith("rq_fallback:")


def test_one_flush_spans_queues_in_order(configured: Redis, run_worker) -> None:
    with airlock.scope(executor="rq"):
        for n in range(5):
            queue = "rq_even" if n % 2 == 0 else "rq_odd"
            airlock.enqueue(rq_jobs.record, queue, n, _dispatch_options={"queue": queue})
    assert Queue("rq_even", connection=configured).count == 3
    assert Queue("rq_odd", connection=configured).count == 2
    run_worker("rq_even", "rq_odd")
    assert results(configured, "rq_even") == ["0", "2", "4"]
    assert results(configured, "rq_odd") == ["1", "3"]


def test_single_intents_use_the_executor_call(configured: Redis, run_worker) -> None:
    intent = airlock.Intent(rq_jobs.record, ("direct", 7), dispatch_options={"queue": "rq_one"})
    airlock_rq.rq_executor(intent)
    run_worker("rq_one")
    assert results(configured, "direct") == ["7"]


def test_options_reach_rq(configured: Redis) -> None:
    options = {
        "queue": "rq_options",
        "job_timeout": 123,
        "result_ttl": 456,
        "ttl": 789,
        "failure_ttl": 321,
        "description": "described",
        "job_id": "rq_job_1",
        "meta": {"source": "airlock"},
        "retry": Retry(max=2, interval=[1, 2]),
    }
    with airlock.scope(executor="rq"):
        airlock.enqueue(rq_jobs.record, "opts", 1, _dispatch_options=options)
        airlock.enqueue(
            rq_jobs.record,
            "opts",
            2,
            _dispatch_options={"queue": "rq_options", "job_id": "rq_job_front", "at_front": True},
        )
    job = Job.fetch("rq_job_1", connection=configured)
    assert job.timeout == 123
    assert job.result_ttl == 456
    assert job.ttl == 789
    assert job.failure_ttl == 321
    assert job.description == "described"
    assert job.meta == {"source": "airlock"}
    assert job.retries_left == 2
    assert job.retry_intervals == [1, 2]
    assert job.origin == "rq_options"
    assert Queue("rq_options", connection=configured).job_ids == ["rq_job_front", "rq_job_1"]


def test_enqueue_in_and_enqueue_at_schedule_the_job(configured: Redis, run_worker) -> None:
    later = {"queue": "rq_later", "job_timeout": 77}
    before = datetime.now(timezone.utc)
    with airlock.scope(executor="rq"):
        airlock.enqueue(rq_jobs.record, "later", "now", _dispatch_options={"queue": "rq_later"})
        airlock.enqueue(
            rq_jobs.record,
            "later",
            "in",
            _dispatch_options={**later, "job_id": "in3", "enqueue_in": timedelta(seconds=3)},
        )
        airlock.enqueue(
            rq_jobs.record,
            key="later",
            value="at",
            _dispatch_options={
                **later,
                "job_id": "at3",
                "enqueue_at": before + timedelta(seconds=3),
            },
        )
    after = datetime.now(timezone.utc)
    queue = Queue("rq_later", connection=configured)
    assert queue.count == 1  # only the unscheduled job is waiting in the queue
    registry = queue.scheduled_job_registry
    assert sorted(registry.get_job_ids()) == ["at3", "in3"]
    in3 = registry.get_scheduled_time("in3")
    assert before + timedelta(seconds=3) - timedelta(seconds=1) <= in3  # RQ keeps whole seconds
    assert in3 <= after + timedelta(seconds=3)
    assert registry.get_scheduled_time("at3") == (before + timedelta(seconds=3)).replace(
        microsecond=0
    )
    assert Job.fetch("in3", connection=configured).timeout == 77
    assert Job.fetch("at3", connection=configured).kwargs == {"key": "later", "value": "at"}
    # Due once three seconds have passed: then a worker with the scheduler runs all three.
    time.sleep(
        max(0.0, (after + timedelta(seconds=3.5) - datetime.now(timezone.utc)).total_seconds())
    )
    run_worker("rq_later", scheduler=True)
    assert sorted(results(configured, "later")) == ["at", "in", "now"]


def test_depends_on_keeps_order_within_a_flush(configured: Redis, run_worker) -> None:
    with airlock.scope(executor="rq"):
        airlock.enqueue(
            rq_jobs.record, "chain", "first", _dispatch_options={"queue": "rq_chain", "job_id": "a"}
        )
        after_a = {"queue": "rq_chain", "depends_on": "a"}
        airlock.enqueue(rq_jobs.record, "chain", "second", _dispatch_options=after_a)
        airlock.enqueue(rq_jobs.record, "chain", "third", _dispatch_options={"queue": "rq_chain"})
    queue = Queue("rq_chain", connection=configured)
    assert queue.count == 2  # the dependent job waits for "a"
    assert len(queue.deferred_job_registry) == 1
    run_worker("rq_chain")
    assert results(configured, "chain") == ["first", "third", "second"]


def test_env_url_configures_the_connection(
    connection: Redis, rq_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRLOCK_RQ_URL", rq_url)
    with airlock.scope(executor="rq"):
        airlock.enqueue(rq_jobs.record, "env", 1, _dispatch_options={"queue": "rq_env"})
    assert Queue("rq_env", connection=connection).count == 1


def test_configure_by_url(connection: Redis, rq_url: str) -> None:
    airlock_rq.configure(url=rq_url)
    with airlock.scope(executor="rq"):
        airlock.enqueue(rq_jobs.record, "url", 1, _dispatch_options={"queue": "rq_url"})
    assert Queue("rq_url", connection=connection).count == 1
