"""Self-test of the example plugin, installed: `pytest examples/airlock-example-plugin/tests`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from airlock_example_plugin import (
    OUTBOX_ENV,
    OutboxExecutor,
    dispatch_counts,
    outbox_path,
    read_outbox,
    reset_counts,
)
from airlock_example_plugin import plugin as example_plugin

import airlock


@pytest.fixture(autouse=True)
def outbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "outbox.jsonl"
    monkeypatch.setenv(OUTBOX_ENV, str(path))
    airlock.reset_configuration()
    reset_counts()
    yield path
    airlock.reset_configuration()


def test_the_entry_point_registers_the_example_executor() -> None:
    assert airlock.plugins.names("executor")["example"] == "example"
    assert airlock.plugins.distribution("example") == "airlock-example-plugin"
    with airlock.scope(executor="example") as scope:
        pass
    assert scope.executor is example_plugin.executor


def test_a_flush_appends_one_line_per_intent_in_order(outbox: Path) -> None:
    with airlock.scope(executor="example"):
        airlock.enqueue("shop.tasks.send_receipt", 42, _dispatch_options={"queue": "mail"})
        airlock.enqueue(json.dumps, "a", b="c")
        assert read_outbox() == []
    assert read_outbox(outbox) == [
        {
            "task": "shop.tasks.send_receipt",
            "args": [42],
            "kwargs": {},
            "options": {"queue": "mail"},
        },
        {"task": "json.dumps", "args": ["a"], "kwargs": {"b": "c"}, "options": {}},
    ]


def test_a_discarded_scope_writes_nothing(outbox: Path) -> None:
    def fail_after_enqueueing() -> None:
        with airlock.scope(executor="example"):
            airlock.enqueue("shop.tasks.send_receipt", 1)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail_after_enqueueing()
    assert not outbox.exists()


def flush_three(**scope_kwargs: object) -> None:
    """The second of three intents cannot be written as JSON."""
    with airlock.scope(executor="example", **scope_kwargs):
        airlock.enqueue("shop.tasks.first", 1)
        airlock.enqueue("shop.tasks.second", object())
        airlock.enqueue("shop.tasks.third", 3)


def test_a_bad_intent_is_accounted_for_and_the_ones_before_it_go_out() -> None:
    with pytest.raises(airlock.DispatchError) as caught:
        flush_three()
    error = caught.value
    assert [i.name for i in error.dispatched] == ["first"]
    assert [(i.name, type(exc)) for i, exc in error.failed] == [("second", TypeError)]
    assert [i.name for i in error.pending] == ["third"]
    assert [r["task"] for r in read_outbox()] == ["shop.tasks.first"]


def test_continue_mode_sends_everything_it_can() -> None:
    with pytest.raises(airlock.DispatchError) as caught:
        flush_three(on_dispatch_error="continue")
    assert [i.name for i, _ in caught.value.failed] == ["second"]
    assert caught.value.pending == []
    assert [r["task"] for r in read_outbox()] == ["shop.tasks.first", "shop.tasks.third"]


def test_tasks_without_an_import_path_are_refused(outbox: Path) -> None:
    def enqueue_a_lambda() -> None:
        with airlock.scope(executor="example"):
            airlock.enqueue(lambda: None)

    with pytest.raises(airlock.DispatchError) as caught:
        enqueue_a_lambda()
    assert "no import path" in str(caught.value.failed[0][1])
    assert not outbox.exists()


def test_the_lifecycle_hook_counts_dispatches_through_any_executor() -> None:
    with airlock.scope(executor="example"):
        airlock.enqueue("shop.tasks.send_receipt", 1)
        airlock.enqueue("shop.tasks.send_receipt", 2)
    with airlock.scope(executor="sync"):
        airlock.enqueue(json.dumps, "a")
    with airlock.scope(policy=airlock.DropAll()):
        airlock.enqueue(json.dumps, "dropped")
    assert dispatch_counts() == {"send_receipt": 2, "dumps": 1}


def test_a_fixed_path_and_the_default_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fixed = tmp_path / "fixed.jsonl"
    with airlock.scope(executor=OutboxExecutor(fixed)):
        airlock.enqueue("shop.tasks.send_receipt", 1)
    assert [r["args"] for r in read_outbox(fixed)] == [[1]]
    monkeypatch.delenv(OUTBOX_ENV)
    assert outbox_path().name == "airlock-example-outbox.jsonl"
