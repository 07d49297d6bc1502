"""Job functions the tests enqueue and a real ``rq worker`` runs (imported by dotted path).

Each job writes what it saw into the worker's Redis database, where the test
reads it back: results are observed from the worker side.
"""

from __future__ import annotations

from typing import Any

from rq import get_current_job

import airlock


def _redis() -> Any:
    job = get_current_job()
    assert job is not None, "rq_jobs functions run inside an RQ job"
    return job.connection


def record(key: str, value: Any) -> None:
    """Append ``value`` to the Redis list ``rq_results:<key>``."""
    _redis().rpush(f"rq_results:{key}", str(value))


def record_job(key: str) -> None:
    """Append the running job's id and queue to ``rq_results:<key>``."""
    job = get_current_job()
    assert job is not None
    _redis().rpush(f"rq_results:{key}", f"{job.origin}:{job.id}")


def place_order(order_id: int, *, fail: bool = False) -> None:
    """Enqueue two effects through airlock, then fail if asked (worker-side scoping)."""
    effects = {"queue": "rq_effects"}
    airlock.enqueue(record, "emails", order_id, _dispatch_options=effects)
    airlock.enqueue("rq_jobs.record", "warehouse", order_id, _dispatch_options=effects)
    _redis().rpush("rq_results:attempts", str(order_id))
    if fail:
        raise RuntimeError(f"order {order_id} failed")


def flaky_order(order_id: int) -> None:
    """Fail on the first attempt, succeed on the retry; each attempt enqueues an effect."""
    attempt = _redis().incr(f"rq_results:flaky:{order_id}")
    airlock.enqueue(record, "flaky_effects", f"{order_id}:attempt{attempt}")
    if attempt == 1:
        raise RuntimeError("first attempt fails")


def enrich_user(user_id: int) -> None:
    """Saving the user enqueues this very job again; BlockTasks stops the loop."""
    _redis().rpush("rq_results:enrich_runs", str(user_id))
    with airlock.policy(airlock.BlockTasks({"enrich_user"})):
        save_user(user_id)


def save_user(user_id: int) -> None:
    """What a model's save() would do: enqueue enrichment and an audit record."""
    airlock.enqueue(enrich_user, user_id, _dispatch_options={"queue": "rq_users"})
    airlock.enqueue(record, "audit", f"saved {user_id}", _dispatch_options={"queue": "rq_users"})


def note_success(job: Any, connection: Any, result: Any, *args: Any, **kwargs: Any) -> None:
    """An ``on_success`` callback: the worker imports it by its dotted path and calls it."""
    connection.rpush("rq_results:callbacks", f"success {job.id} {result}")


def note_failure(job: Any, connection: Any, *exc_info: Any, **kwargs: Any) -> None:
    """An ``on_failure`` callback: the worker imports it by its dotted path and calls it."""
    connection.rpush("rq_results:callbacks", f"failure {job.id} {exc_info[1]}")


def fail(reason: str) -> None:
    """A job that raises."""
    raise RuntimeError(reason)
