"""A scope is used once, in the context that entered it; misuse is a ScopeStateError
that loses no buffered intent."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from typing import Any

import gevent
import pytest
from coresupport import Recorder

import airlock


def send_email(*args: Any, **kwargs: Any) -> None:
    pass


def test_flush_twice_is_refused_and_dispatches_nothing_twice(recorder: Recorder) -> None:
    with airlock.scope(executor=recorder) as scope:
        airlock.enqueue(send_email)
    with pytest.raises(airlock.ScopeStateError, match="already flushed"):
        scope.flush()
    assert len(recorder.intents) == 1
    assert len(scope.intents) == 1


def test_flush_or_discard_while_open_is_refused_and_the_block_still_flushes(
    recorder: Recorder,
) -> None:
    with airlock.scope(executor=recorder) as scope:
        airlock.enqueue(send_email, 1)
        with pytest.raises(airlock.ScopeStateError, match="open"):
            scope.flush()
        with pytest.raises(airlock.ScopeStateError, match="open"):
            scope.discard()
        assert scope.is_active
        assert len(scope.intents) == 1
    assert recorder.calls == [("send_email", (1,), {})]


def test_flush_or_discard_of_a_scope_never_entered_is_refused() -> None:
    scope = airlock.scope()
    with pytest.raises(airlock.ScopeStateError, match="never entered"):
        scope.flush()
    with pytest.raises(airlock.ScopeStateError, match="never entered"):
        scope.discard()


def test_discard_after_flush_and_flush_after_discard_are_refused() -> None:
    with airlock.scope() as flushed:
        pass
    with pytest.raises(airlock.ScopeStateError):
        flushed.discard()
    discarded = airlock.scope()
    discarded.enter()
    discarded.exit()
    discarded.discard()
    with pytest.raises(airlock.ScopeStateError):
        discarded.flush()


def test_entering_a_scope_twice_is_refused(recorder: Recorder) -> None:
    scope = airlock.scope(executor=recorder)
    with scope:
        airlock.enqueue(send_email, 1)
        with pytest.raises(airlock.ScopeStateError, match="already entered"):
            scope.enter()
        assert airlock.get_current_scope() is scope
    assert recorder.calls == [("send_email", (1,), {})]
    with pytest.raises(airlock.ScopeStateError, match="already entered"), scope:
        pass


def test_exiting_a_scope_that_is_not_open_is_refused() -> None:
    with pytest.raises(airlock.ScopeStateError, match="not open"):
        airlock.scope().exit()


def test_exit_in_a_copied_context_keeps_the_intents_for_a_later_flush(recorder: Recorder) -> None:
    scope = airlock.scope(executor=recorder)
    entered_in = contextvars.copy_context()
    entered_in.run(scope.__enter__)
    entered_in.run(airlock.enqueue, send_email, "kept")

    with pytest.raises(airlock.ScopeStateError, match="different context") as caught:
        scope.__exit__(None, None, None)
    assert "1 buffered intents are kept" in str(caught.value)
    assert not scope.is_active
    assert not scope.is_flushed
    assert not scope.is_discarded
    assert [i.args for i in scope.intents] == [("kept",)]
    assert recorder.intents == []

    assert [i.args for i in scope.flush()] == [("kept",)]
    assert recorder.calls == [("send_email", ("kept",), {})]
    assert scope.is_flushed


def test_exit_in_another_asyncio_task_keeps_the_intents(recorder: Recorder) -> None:
    scope = airlock.scope(executor=recorder)

    async def enter_and_enqueue() -> None:
        await scope.__aenter__()
        airlock.enqueue(send_email, "from task")

    async def main() -> None:
        await asyncio.create_task(enter_and_enqueue())
        with pytest.raises(airlock.ScopeStateError, match="different context"):
            await scope.__aexit__(None, None, None)

    asyncio.run(main())
    assert [i.args for i in scope.intents] == [("from task",)]
    scope.discard()
    assert scope.is_discarded
    assert recorder.intents == []


def test_exit_in_another_greenlet_keeps_the_intents(recorder: Recorder) -> None:
    scope = airlock.scope(executor=recorder)

    def enter_and_enqueue() -> None:
        scope.enter()
        airlock.enqueue(send_email, "from greenlet")

    def exit_elsewhere() -> BaseException | None:
        try:
            scope.exit()
        except airlock.ScopeStateError as exc:
            return exc
        return None

    gevent.spawn(enter_and_enqueue).join(timeout=10)
    exiting = gevent.spawn(exit_elsewhere)
    exiting.join(timeout=10)
    assert isinstance(exiting.value, airlock.ScopeStateError)
    assert [i.args for i in scope.flush()] == [("from greenlet",)]
    assert recorder.calls == [("send_email", ("from greenlet",), {})]


def test_exit_from_a_fresh_thread_leaves_that_thread_without_a_scope() -> None:
    seen: dict[str, Any] = {}

    def exit_elsewhere(scope: airlock.Scope) -> None:
        try:
            scope.exit()
        except airlock.ScopeStateError as exc:
            seen["error"] = exc
        seen["current"] = airlock.get_current_scope()

    def nest_and_exit_inner_elsewhere() -> None:
        airlock.scope().enter()
        inner = airlock.scope()
        inner.enter()
        worker = threading.Thread(target=exit_elsewhere, args=(inner,))
        worker.start()
        worker.join(timeout=10)

    # The entering context is thrown away afterwards: its scopes never close.
    contextvars.copy_context().run(nest_and_exit_inner_elsewhere)
    assert isinstance(seen["error"], airlock.ScopeStateError)
    assert seen["current"] is None


def test_after_a_foreign_exit_and_flush_the_entering_context_can_close_its_outer_scope(
    recorder: Recorder,
) -> None:
    def run() -> None:
        with airlock.scope(executor=recorder):
            airlock.enqueue(send_email, "outer")
            inner = airlock.scope(executor=recorder)
            inner.enter()
            airlock.enqueue(send_email, "inner")
            with pytest.raises(airlock.ScopeStateError, match="different context"):
                contextvars.copy_context().run(inner.exit)
            inner.flush()

    contextvars.copy_context().run(run)
    assert recorder.calls == [("send_email", ("outer",), {}), ("send_email", ("inner",), {})]


def test_get_current_scope_never_returns_an_ended_scope() -> None:
    with airlock.scope():
        stale = contextvars.copy_context()
    current = stale.run(airlock.get_current_scope)
    assert current is None or current.is_active


def test_exiting_an_outer_scope_while_an_inner_one_is_open_is_refused(recorder: Recorder) -> None:
    outer = airlock.scope(executor=recorder)
    outer.enter()
    airlock.enqueue(send_email, "outer")
    inner = airlock.scope(executor=recorder)
    inner.enter()
    airlock.enqueue(send_email, "inner")

    with pytest.raises(airlock.ScopeStateError, match="nested scope"):
        outer.__exit__(None, None, None)
    assert outer.is_active
    assert inner.is_active
    assert airlock.get_current_scope() is inner
    assert [i.args for i in outer.intents] == [("outer",)]

    inner.__exit__(None, None, None)
    outer.__exit__(None, None, None)
    assert recorder.calls == [("send_email", ("outer",), {}), ("send_email", ("inner",), {})]
