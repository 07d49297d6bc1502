"""The dramatiq executor sends; a real ``dramatiq`` worker (Redis, RabbitMQ) runs."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from conftest import App

import airlock
import airlock_dramatiq

pytestmark = pytest.mark.slow


def test_flush_sends_actors_by_object_name_and_path(app: App) -> None:
    with airlock.scope(executor="dramatiq"):
        airlock.enqueue(app.record, "basic", 1)
        airlock.enqueue(app.record, key="basic", value=2)
        airlock.enqueue(f"{app.module.__name__}.record", "basic", 3)
        assert app.results("basic") == []
    assert sorted(app.wait_for("basic", 3)) == ["1", "2", "3"]


def test_nothing_escapes_when_the_block_raises(app: App) -> None:
    def fail() -> None:
        with airlock.scope(executor="dramatiq"):
            airlock.enqueue(app.record, "never", 1)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail()
    app.record.send("sentinel", 1)
    app.wait_for("sentinel")
    app.drain()
    assert app.results("never") == []


def test_options_reach_the_message(app: App) -> None:
    with airlock.scope(executor="dramatiq"):
        airlock.enqueue(
            app.record_options,
            "limits",
            _dispatch_options={"max_retries": 3, "time_limit": 60_000, "delay": 10},
        )
        airlock.enqueue(
            app.record_options, "plain", _dispatch_options={"delay": timedelta(milliseconds=5)}
        )
        airlock.enqueue(app.record_options, "now")
    [limits] = [json.loads(v) for v in app.wait_for("limits")]
    assert limits["max_retries"] == 3
    assert limits["time_limit"] == 60_000
    app.wait_for("plain")
    app.wait_for("now")
    assert sorted(app.results("delayed")) == ["limits", "plain"]  # the worker saw the delay


def test_pipe_target_pipes_the_result(app: App) -> None:
    target = app.record.message("piped").asdict()
    with airlock.scope(executor="dramatiq"):
        airlock.enqueue(app.add, 2, 3, _dispatch_options={"pipe_target": target})
    assert app.wait_for("piped") == ["5"]


def test_single_intent_uses_send_with_options(app: App) -> None:
    airlock_dramatiq.dramatiq_executor(airlock.Intent(app.record, ("direct", 7)))
    assert app.wait_for("direct") == ["7"]


def test_a_large_flush_arrives_whole(app: App) -> None:
    with airlock.scope(executor="dramatiq"):
        for n in range(200):
            airlock.enqueue(app.record, "bulk", n)
    assert sorted(map(int, app.wait_for("bulk", 200))) == list(range(200))
