"""The options the ``dramatiq`` executor declares unsafe really make a worker run code.

The outbox relay refuses a stored row carrying any of them. ``on_failure`` and
``pipe_target`` are shown reaching the worker in test_dramatiq_worker_scope.py
and test_dramatiq_dispatch.py; ``on_success`` here.
"""

from __future__ import annotations

import json

import dramatiq
import pytest
from conftest import App

import airlock
import airlock.plugins
import airlock_dramatiq

DECLARED = {"on_success", "on_failure", "on_retry_exhausted", "pipe_target", "retry_when", "throws"}


def test_the_executor_declares_them() -> None:
    assert airlock.plugins.unsafe_options(airlock_dramatiq.dramatiq_executor) == DECLARED
    assert airlock_dramatiq.DramatiqExecutor.unsafe_options == DECLARED


def test_each_is_an_option_of_dramatiqs_own_middleware(redis_app: App) -> None:
    accepted = redis_app.broker.actor_options | {"pipe_target"}
    if "on_retry_exhausted" not in accepted:  # Retries reads it from Dramatiq 1.17 on
        assert tuple(map(int, dramatiq.__version__.split(".")[:2])) < (1, 17)
        accepted |= {"on_retry_exhausted"}
    assert accepted >= DECLARED


@pytest.mark.slow
def test_on_success_makes_the_worker_send_to_another_actor(app: App) -> None:
    with airlock.scope(executor="dramatiq"):
        airlock.enqueue(app.add, 2, 3, _dispatch_options={"on_success": "note_success"})
    [seen] = app.wait_for("successes")
    assert json.loads(seen) == ["add", [2, 3], 5]
