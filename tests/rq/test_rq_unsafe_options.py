"""The options the ``rq`` executor declares unsafe really make a worker run code.

The outbox relay refuses a stored row carrying any of them: a row whose options
hold ``on_success="some.module.func"`` would make the worker import and call
that function, on no allowlist. Shown here with a real ``rq worker``.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest
import rq_jobs
from conftest import results
from redis import Redis
from rq import Queue

import airlock
import airlock.plugins
import airlock_rq
from airlock_rq.options import ENQUEUE_OPTIONS

DECLARED = {"on_success", "on_failure", "on_stopped", "webhooks", "serializer"}
CALLBACKS = {"queue": "rq_callbacks"}


def test_the_executor_declares_them() -> None:
    assert airlock.plugins.unsafe_options(airlock_rq.rq_executor) == DECLARED
    assert airlock_rq.RQExecutor.unsafe_options == DECLARED


def test_every_option_of_queue_enqueue_that_takes_code_is_declared() -> None:
    """The callbacks, on every RQ version; webhooks where RQ has them."""
    signature = inspect.signature(Queue.enqueue_call)
    code_taking = {
        name
        for name, parameter in signature.parameters.items()
        if "Callable" in str(parameter.annotation) or "Webhook" in str(parameter.annotation)
    }
    assert {"on_success", "on_failure", "on_stopped"} <= code_taking
    assert code_taking <= DECLARED
    assert DECLARED - {"serializer"} - ENQUEUE_OPTIONS <= {"webhooks"}  # webhooks: RQ >= 3
    assert "serializer" not in ENQUEUE_OPTIONS  # a Queue setting, refused per job anyway


@pytest.mark.redis
@pytest.mark.slow
# A plain string, as a stored row would carry it; RQ prefers rq.Callback and says so.
@pytest.mark.filterwarnings("ignore:Passing a string or function:DeprecationWarning")
def test_a_dotted_path_callback_is_imported_and_called_by_the_worker(
    configured: Redis, run_worker: Any
) -> None:
    with airlock.scope(executor="rq"):
        airlock.enqueue(
            rq_jobs.record,
            "called",
            1,
            _dispatch_options={**CALLBACKS, "job_id": "ok1", "on_success": "rq_jobs.note_success"},
        )
        airlock.enqueue(
            rq_jobs.fail,
            "boom",
            _dispatch_options={**CALLBACKS, "job_id": "bad1", "on_failure": "rq_jobs.note_failure"},
        )
    run_worker("rq_callbacks")
    assert results(configured, "called") == ["1"]
    assert results(configured, "callbacks") == ["success ok1 None", "failure bad1 boom"]
