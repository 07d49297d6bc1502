"""Self-test of the example plugin, installed: `pytest examples/airlock-example-plugin/tests`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from airlock_example_plugin import (
    OUTBOX_ENV,
    OutboxExecutor,
    UnitOfWorkScope,
    dispatch_counts,
    outbox_path,
    read_outbox,
    reset_counts,
    unit_of_work,
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


def flush_five() -> None:
    """The third of five intents cannot be written as JSON."""
    with airlock.scope(executor="example"):
        for number in range(1, 6):
            airlock.enqueue("shop.tasks.step", object() if number == 3 else number)


def test_the_third_of_five_failing_is_accounted_for_exactly() -> None:
    with pytest.raises(airlock.DispatchError) as caught:
        flush_five()
    error = caught.value
    assert [i.args for i in error.dispatched] == [(1,), (2,)]
    ((failed, exc),) = error.failed
    assert type(failed.args[0]) is object
    assert isinstance(exc, TypeError)
    assert [i.args for i in error.pending] == [(4,), (5,)]
    assert [r["args"] for r in read_outbox()] == [[1], [2]]


def test_a_write_that_fails_fails_the_whole_batch(tmp_path: Path) -> None:
    unwritable = OutboxExecutor(tmp_path / "missing-directory" / "outbox.jsonl")

    def flush() -> None:
        with airlock.scope(executor=unwritable):
            airlock.enqueue("shop.tasks.first", 1)
            airlock.enqueue("shop.tasks.second", 2)

    with pytest.raises(airlock.DispatchError) as caught:
        flush()
    assert caught.value.dispatched == []
    assert [(i.name, type(e)) for i, e in caught.value.failed] == [
        ("first", FileNotFoundError),
        ("second", FileNotFoundError),
    ]


class Discarded:
    def __init__(self) -> None:
        self.names: list[list[str]] = []

    @airlock.hookimpl
    def airlock_scope_discarded(self, intents: list[airlock.Intent]) -> None:
        self.names.append([i.name for i in intents])


def test_the_unit_of_work_scope_holds_effects_until_the_unit_commits(outbox: Path) -> None:
    with unit_of_work():
        with airlock.scope(executor="example", _cls="unit_of_work"):
            airlock.enqueue("shop.tasks.send_receipt", 1)
        assert read_outbox() == []  # the scope ended; the unit of work has not
    assert [r["args"] for r in read_outbox()] == [[1]]


def test_a_unit_of_work_that_rolls_back_reports_what_it_dropped(outbox: Path) -> None:
    discarded = Discarded()
    airlock.plugins.register(discarded, name="example-test-discards")

    def job() -> None:
        with unit_of_work():
            with airlock.scope(executor="example", _cls="unit_of_work"):
                airlock.enqueue("shop.tasks.send_receipt", 1)
            raise RuntimeError("the batch job failed after the scope ended")

    try:
        with pytest.raises(RuntimeError, match="batch job failed"):
            job()
    finally:
        airlock.plugins.unregister("example-test-discards")
    assert not outbox.exists()
    assert discarded.names == [["send_receipt"]]


def test_outside_a_unit_of_work_the_scope_behaves_like_any_scope(outbox: Path) -> None:
    with airlock.scope(executor="example", _cls="unit_of_work") as scope:
        airlock.enqueue("shop.tasks.send_receipt", 2)
    assert isinstance(scope, UnitOfWorkScope)
    assert [r["args"] for r in read_outbox()] == [[2]]
