"""Worker-side scoping: ``rq worker --job-class airlock_rq.AirlockJob``.

The worker runs with ``AIRLOCK_EXECUTOR=rq`` and no ``AIRLOCK_RQ_URL``: what a
job enqueues goes back to RQ over the worker's own connection.
"""

from __future__ import annotations

import pytest
from conftest import results
from redis import Redis
from rq import Queue
from rq.job import Job

import airlock

pytestmark = [pytest.mark.redis, pytest.mark.slow]

JOB_CLASS = "airlock_rq.AirlockJob"
WORKER_ENV = {"AIRLOCK_EXECUTOR": "rq"}


def submit(connection: Redis, func: str, *args: object, queue: str = "rq_orders", **kwargs: object):
    return Queue(queue, connection=connection).enqueue(func, *args, **kwargs)


def test_a_successful_job_flushes_its_effects(connection: Redis, run_worker) -> None:
    submit(connection, "rq_jobs.place_order", 1)
    run_worker("rq_orders", "rq_effects", job_class=JOB_CLASS, env=WORKER_ENV)
    assert results(connection, "attempts") == ["1"]
    assert results(connection, "emails") == ["1"]
    assert results(connection, "warehouse") == ["1"]


def test_a_failed_job_discards_its_effects(connection: Redis, run_worker) -> None:
    job = submit(connection, "rq_jobs.place_order", 2, fail=True)
    run_worker("rq_orders", "rq_effects", job_class=JOB_CLASS, env=WORKER_ENV)
    assert results(connection, "attempts") == ["2"]
    assert Job.fetch(job.id, connection=connection).get_status() == "failed"
    assert results(connection, "emails") == []
    assert results(connection, "warehouse") == []
    assert Queue("rq_effects", connection=connection).count == 0


def test_a_retried_job_keeps_only_the_successful_attempts_effects(
    connection: Redis, run_worker
) -> None:
    from rq import Retry

    submit(connection, "rq_jobs.flaky_order", 5, queue="default", retry=Retry(max=1))
    run_worker("default", job_class="airlock_rq.AirlockJob", env=WORKER_ENV)
    assert results(connection, "flaky_effects") == ["5:attempt2"]


def test_a_job_that_re_enqueues_itself_is_stopped_by_block_tasks(
    connection: Redis, run_worker
) -> None:
    submit(connection, "rq_jobs.enrich_user", 7, queue="rq_users")
    run_worker("rq_users", job_class=JOB_CLASS, env=WORKER_ENV)
    assert results(connection, "enrich_runs") == ["7"]  # ran once; the re-enqueue was dropped
    assert results(connection, "audit") == ["saved 7"]  # the other effect went out


def test_without_the_job_class_enqueue_has_no_scope(connection: Redis, run_worker) -> None:
    job = submit(connection, "rq_jobs.place_order", 4)
    run_worker("rq_orders", env=WORKER_ENV)
    failed = Job.fetch(job.id, connection=connection)
    assert failed.get_status() == "failed"
    assert "NoScopeError" in (failed.latest_result().exc_string or "")
    assert airlock.get_current_scope() is None
