"""Caller-chosen message ids (``message_id``): the worker sees exactly the id given."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import App

import airlock
import airlock_dramatiq
from airlock_dramatiq import DramatiqExecutor

pytestmark = pytest.mark.slow


def seen(app: App, key: str, count: int) -> dict[object, tuple[str, list[str]]]:
    """What the worker saw, by value: (message id, option names)."""
    return {value: (mid, opts) for mid, value, opts in map(json.loads, app.wait_for(key, count))}


def flush(task: Any, key: str, calls: list[tuple[int, dict[str, Any]]]) -> None:
    """Enqueue ``task(key, value)`` with each value's dispatch options in one scope."""
    with airlock.scope(executor="dramatiq"):
        for value, options in calls:
            airlock.enqueue(task, key, value, _dispatch_options=options)


def test_the_option_is_named_on_the_executor() -> None:
    assert DramatiqExecutor.message_id_option == "message_id"
    assert airlock_dramatiq.dramatiq_executor.message_id_option == "message_id"


def test_a_flush_sends_the_given_ids(app: App) -> None:
    option = airlock_dramatiq.dramatiq_executor.message_id_option
    with airlock.scope(executor="dramatiq"):
        airlock.enqueue(app.record_message_id, "ids", 1, _dispatch_options={option: "order-1"})
        airlock.enqueue(app.record_message_id, "ids", 2)
        airlock.enqueue(
            app.record_message_id, "ids", 3, _dispatch_options={option: "order-3", "delay": 5}
        )
        airlock.enqueue(app.record_message_id, "ids", 4, _dispatch_options={"delay": 5})
    by_value = seen(app, "ids", 4)
    assert by_value[1][0] == "order-1"
    assert by_value[3][0] == "order-3"
    generated = {by_value[2][0], by_value[4][0]}
    assert len(generated) == 2
    assert not generated & {"order-1", "order-3"}
    # Apart from its id, a message with a given id is what Dramatiq would have sent.
    assert by_value[1][1] == by_value[2][1]
    assert by_value[3][1] == by_value[4][1]
    assert sorted(app.results("delayed")) == ["ids", "ids"]


def test_a_single_send_uses_the_given_id(app: App) -> None:
    executor = airlock_dramatiq.dramatiq_executor
    record = app.record_message_id
    executor(airlock.Intent(record, ("single", 7), dispatch_options={"message_id": "one-7"}))
    delayed = {"message_id": "one-8", "delay": 5}
    executor(airlock.Intent(record, ("single", 8), dispatch_options=delayed))
    by_value = seen(app, "single", 2)
    assert by_value[7][0] == "one-7"
    assert by_value[8][0] == "one-8"


@pytest.mark.parametrize("bad", ["", 42, None, b"order-1"])
def test_a_bad_message_id_fails_that_intent(app: App, bad: Any) -> None:
    calls = [(1, {}), (2, {"message_id": bad}), (3, {})]
    with pytest.raises(airlock.DispatchError) as caught:
        flush(app.record_message_id, "bad_id", calls)
    error = caught.value
    assert [i.args for i in error.dispatched] == [("bad_id", 1)]
    [(intent, exc)] = error.failed
    assert intent.args == ("bad_id", 2)
    assert isinstance(exc, airlock.UsageError)
    assert "'message_id'" in str(exc)
    assert "non-empty string" in str(exc)
    assert [i.args for i in error.pending] == [("bad_id", 3)]
    assert len(app.wait_for("bad_id")) == 1
