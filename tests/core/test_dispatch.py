"""Flush and dispatch: DispatchError accounting, batches, and the Scope extension points."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from coresupport import Recorder, raise_after, run_block

import airlock


def task(*args: Any) -> None:
    pass


class Refused(Exception):
    pass


class FailingExecutor(Recorder):
    """Records what it dispatched; raises ``Refused`` for intents whose first arg is listed."""

    def __init__(self, *failing: object) -> None:
        super().__init__()
        self.failing = failing
        self.attempts = 0

    def __call__(self, intent: airlock.Intent) -> None:
        self.attempts += 1
        if intent.args[0] in self.failing:
            raise Refused(f"cannot send {intent.args[0]}")
        super().__call__(intent)


class DispatchedHook:
    def __init__(self) -> None:
        self.seen: list[airlock.Intent] = []

    @airlock.hookimpl
    def airlock_intent_dispatched(self, intent: airlock.Intent) -> None:
        self.seen.append(intent)


@pytest.fixture(params=["no hooks", "dispatched hook"])
def dispatch_path(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    register_plugin: Callable[[object, str], str],
) -> Iterator[DispatchedHook | None]:
    """Run a test both with no lifecycle hook and with a dispatched hook implemented."""
    airlock.plugins.load()
    if request.param == "no hooks":
        monkeypatch.setattr(airlock.lifecycle.lifecycle, "dispatched", None)
        monkeypatch.setattr(airlock.lifecycle.lifecycle, "failed", None)
        yield None
    else:
        hook = DispatchedHook()
        register_plugin(hook, "core-test-dispatched-hook")
        yield hook


def args_of(intents: Sequence[airlock.Intent]) -> list[Any]:
    return [i.args[0] for i in intents]


def flush_numbers(executor: Any, count: int, **scope_kwargs: Any) -> airlock.Scope:
    """Enqueue task(1..count) in a scope with ``executor``; return the scope."""
    with airlock.scope(executor=executor, **scope_kwargs) as scope:
        for n in range(1, count + 1):
            airlock.enqueue(task, n)
    return scope


def test_a_clean_flush_raises_nothing(dispatch_path: DispatchedHook | None) -> None:
    executor = FailingExecutor()
    scope = flush_numbers(executor, 3)
    assert args_of(executor.intents) == [1, 2, 3]
    assert scope.is_flushed
    if dispatch_path is not None:
        assert dispatch_path.seen == executor.intents


def test_a_failure_stops_the_flush_and_accounts_for_every_intent(
    dispatch_path: DispatchedHook | None,
) -> None:
    executor = FailingExecutor(2)
    with pytest.raises(airlock.DispatchError) as caught:
        flush_numbers(executor, 4)
    error = caught.value
    assert args_of(error.dispatched) == [1]
    assert [(i.args[0], type(e)) for i, e in error.failed] == [(2, Refused)]
    assert args_of(error.pending) == [3, 4]
    assert isinstance(error.__cause__, Refused)
    assert executor.attempts == 2
    assert error.dispatched == executor.intents
    if dispatch_path is not None:
        assert dispatch_path.seen == executor.intents


def test_a_failure_on_the_first_intent(dispatch_path: DispatchedHook | None) -> None:
    with pytest.raises(airlock.DispatchError) as caught:
        flush_numbers(FailingExecutor(1), 3)
    assert caught.value.dispatched == []
    assert args_of([i for i, _ in caught.value.failed]) == [1]
    assert args_of(caught.value.pending) == [2, 3]


def test_a_failure_on_the_last_intent(dispatch_path: DispatchedHook | None) -> None:
    with pytest.raises(airlock.DispatchError) as caught:
        flush_numbers(FailingExecutor(3), 3)
    assert args_of(caught.value.dispatched) == [1, 2]
    assert caught.value.pending == []


def test_continue_tries_every_intent_then_reports(dispatch_path: DispatchedHook | None) -> None:
    executor = FailingExecutor(2, 4)
    with pytest.raises(airlock.DispatchError) as caught:
        flush_numbers(executor, 5, on_dispatch_error="continue")
    error = caught.value
    assert args_of(error.dispatched) == [1, 3, 5]
    assert args_of([i for i, _ in error.failed]) == [2, 4]
    assert all(isinstance(e, Refused) for _, e in error.failed)
    assert error.pending == []
    assert executor.attempts == 5
    if dispatch_path is not None:
        assert args_of(dispatch_path.seen) == [1, 3, 5]


def test_continue_without_failures_raises_nothing(dispatch_path: DispatchedHook | None) -> None:
    executor = FailingExecutor()
    flush_numbers(executor, 3, on_dispatch_error="continue")
    assert args_of(executor.intents) == [1, 2, 3]


def test_the_flushed_intents_are_exactly_the_accounted_ones() -> None:
    executor = FailingExecutor(3)
    scope = airlock.scope(executor=executor, policy=airlock.BlockTasks("other"))

    def body() -> None:
        for n in range(1, 6):
            airlock.enqueue(task, n)
            airlock.enqueue("x.other", n)

    with pytest.raises(airlock.DispatchError) as caught:
        run_block(scope, body)
    error = caught.value
    accounted = [*error.dispatched, *(i for i, _ in error.failed), *error.pending]
    assert accounted == [i for i in scope.intents if i.name == "task"]
    assert scope.is_flushed


def test_a_task_raising_under_the_sync_executor_is_a_dispatch_error(
    dispatch_path: DispatchedHook | None,
) -> None:
    ran: list[int] = []

    def work(n: int) -> None:
        if n == 2:
            raise Refused
        ran.append(n)

    with pytest.raises(airlock.DispatchError) as caught:
        run_block(
            airlock.scope(executor="sync"), lambda: [airlock.enqueue(work, n) for n in (1, 2, 3)]
        )
    assert ran == [1]
    assert args_of(caught.value.pending) == [3]


def test_a_string_task_that_does_not_import_fails_at_dispatch() -> None:
    with pytest.raises(airlock.DispatchError) as caught, airlock.scope(executor="sync"):
        airlock.enqueue("no_such_module_for_airlock.task", 1)
    ((_, error),) = caught.value.failed
    assert isinstance(error, airlock.UnknownPluginError)


def test_dispatch_error_message_is_readable() -> None:
    with pytest.raises(airlock.DispatchError) as caught:
        flush_numbers(FailingExecutor(2), 3)
    text = str(caught.value)
    assert "1 dispatched, 1 failed, 1 pending" in text
    assert "Refused" in text
    assert "cannot send 2" in text


def test_a_dispatch_error_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(airlock.DispatchError):
        flush_numbers(FailingExecutor(1), 1)
    assert any(r.name == "airlock" and "failed" in r.getMessage() for r in caplog.records)


def test_keyboard_interrupt_is_not_swallowed() -> None:
    def interrupt(intent: airlock.Intent) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        flush_numbers(interrupt, 1)


# -- dispatch_many ------------------------------------------------------------


class Batch:
    """An executor with ``dispatch_many``; ``behaviour`` decides what each batch does."""

    def __init__(self, behaviour: Callable[[list[airlock.Intent]], None] | None = None) -> None:
        self.behaviour = behaviour
        self.batches: list[list[Any]] = []
        self.single: list[airlock.Intent] = []

    def __call__(self, intent: airlock.Intent) -> None:
        self.single.append(intent)

    def dispatch_many(self, intents: Sequence[airlock.Intent]) -> None:
        batch = list(intents)
        self.batches.append(args_of(batch))
        if self.behaviour is not None:
            self.behaviour(batch)


def fail_on(*failing: int) -> Callable[[list[airlock.Intent]], None]:
    """A batch that sends everything before the first failing intent, then reports."""

    def behaviour(batch: list[airlock.Intent]) -> None:
        for position, intent in enumerate(batch):
            if intent.args[0] in failing:
                raise airlock.DispatchError(
                    batch[:position], [(intent, Refused(intent.args[0]))], batch[position + 1 :]
                )

    return behaviour


def test_a_batch_executor_gets_the_whole_flush_in_one_call(
    dispatch_path: DispatchedHook | None,
) -> None:
    executor = Batch()
    flush_numbers(executor, 4)
    assert executor.batches == [[1, 2, 3, 4]]
    assert executor.single == []
    if dispatch_path is not None:
        assert args_of(dispatch_path.seen) == [1, 2, 3, 4]


def test_a_batch_reporting_a_dispatch_error_stops_with_its_accounting(
    dispatch_path: DispatchedHook | None,
) -> None:
    executor = Batch(fail_on(2))
    with pytest.raises(airlock.DispatchError) as caught:
        flush_numbers(executor, 4)
    assert executor.batches == [[1, 2, 3, 4]]
    assert args_of(caught.value.dispatched) == [1]
    assert args_of([i for i, _ in caught.value.failed]) == [2]
    assert args_of(caught.value.pending) == [3, 4]
    if dispatch_path is not None:
        assert args_of(dispatch_path.seen) == [1]


def test_a_batch_with_continue_is_called_again_with_the_pending_rest(
    dispatch_path: DispatchedHook | None,
) -> None:
    executor = Batch(fail_on(2, 4))
    with pytest.raises(airlock.DispatchError) as caught:
        flush_numbers(executor, 5, on_dispatch_error="continue")
    assert executor.batches == [[1, 2, 3, 4, 5], [3, 4, 5], [5]]
    assert args_of(caught.value.dispatched) == [1, 3, 5]
    assert args_of([i for i, _ in caught.value.failed]) == [2, 4]
    assert caught.value.pending == []


def test_a_batch_raising_another_exception_fails_the_whole_batch(
    dispatch_path: DispatchedHook | None,
) -> None:
    def broken(batch: list[airlock.Intent]) -> None:
        raise ConnectionError("broker down")

    executor = Batch(broken)
    with pytest.raises(airlock.DispatchError) as caught:
        flush_numbers(executor, 3)
    assert caught.value.dispatched == []
    assert args_of([i for i, _ in caught.value.failed]) == [1, 2, 3]
    assert all(isinstance(e, ConnectionError) for _, e in caught.value.failed)
    assert caught.value.pending == []
    assert executor.batches == [[1, 2, 3]]


def test_a_batch_with_continue_after_another_exception_does_not_retry() -> None:
    def broken(batch: list[airlock.Intent]) -> None:
        raise ConnectionError("broker down")

    executor = Batch(broken)
    with pytest.raises(airlock.DispatchError) as caught:
        flush_numbers(executor, 2, on_dispatch_error="continue")
    assert executor.batches == [[1, 2]]
    assert len(caught.value.failed) == 2


@pytest.mark.parametrize("keep_going", [False, True])
def test_a_batch_error_that_forgets_intents_still_accounts_for_every_one(keep_going: bool) -> None:
    def sloppy(batch: list[airlock.Intent]) -> None:
        raise airlock.DispatchError(batch[:1], [], [])  # says nothing about the rest

    options = {"on_dispatch_error": "continue"} if keep_going else {}
    with pytest.raises(airlock.DispatchError) as caught:
        flush_numbers(Batch(sloppy), 3, **options)
    error = caught.value
    assert args_of(error.dispatched) == [1]
    assert sorted(args_of([*(i for i, _ in error.failed), *error.pending])) == [2, 3]


def test_an_empty_flush_calls_no_executor() -> None:
    executor = Batch()
    with airlock.scope(executor=executor, policy="drop_all"):
        airlock.enqueue(task, 1)
    with airlock.scope(executor=executor):
        pass
    assert executor.batches == []
    assert executor.single == []


def test_dispatch_error_in_an_inner_scope_let_through_by_its_ancestor() -> None:
    class LetAllThrough(airlock.Scope):
        def before_descendant_flushes(
            self, exiting_scope: airlock.Scope, intents: list[airlock.Intent]
        ) -> list[airlock.Intent]:
            return intents

    outer_executor = Recorder()
    with airlock.scope(_cls=LetAllThrough, executor=outer_executor) as outer:
        airlock.enqueue(task, "outer")
        with pytest.raises(airlock.DispatchError), airlock.scope(executor=FailingExecutor(1)):
            airlock.enqueue(task, 1)
        assert outer.captured_intents == []
    assert args_of(outer_executor.intents) == ["outer"]


# -- extension points ---------------------------------------------------------


class FlushEvenOnError(airlock.Scope):
    def should_flush(self, error: BaseException | None) -> bool:
        return True


class NeverFlush(airlock.Scope):
    def should_flush(self, error: BaseException | None) -> bool:
        return False


def test_should_flush_can_flush_on_error_and_the_error_still_propagates(
    recorder: Recorder,
) -> None:
    scope = airlock.scope(_cls=FlushEvenOnError, executor=recorder)
    with pytest.raises(Refused):
        run_block(scope, raise_after(Refused(), (task, 1)))
    assert scope.is_flushed
    assert args_of(recorder.intents) == [1]


def test_should_flush_can_discard_a_successful_block(recorder: Recorder) -> None:
    with airlock.scope(_cls=NeverFlush, executor=recorder) as scope:
        airlock.enqueue(task, 1)
    assert scope.is_discarded
    assert recorder.intents == []


@pytest.mark.parametrize("configured", [False, True], ids=["_cls", "configure"])
def test_a_subclass_with_the_sync_executor_keeps_its_own_steps(configured: bool) -> None:
    ran: list[int] = []

    def open_scope(cls: type[airlock.Scope]) -> airlock.Scope:
        if configured:
            airlock.configure(scope_cls=cls)
            return airlock.scope()
        return airlock.scope(_cls=cls)

    with open_scope(NeverFlush) as kept_back:
        airlock.enqueue(ran.append, 1)
    flushing = open_scope(FlushEvenOnError)
    with pytest.raises(Refused):
        run_block(flushing, raise_after(Refused(), (ran.append, 2)))
    assert kept_back.is_discarded
    assert flushing.is_flushed
    assert ran == [2]


def test_should_flush_receives_the_error() -> None:
    received: list[BaseException | None] = []

    class Watching(airlock.Scope):
        def should_flush(self, error: BaseException | None) -> bool:
            received.append(error)
            return super().should_flush(error)

    with airlock.scope(_cls=Watching):
        pass
    error = Refused()
    with pytest.raises(Refused), airlock.scope(_cls=Watching):
        raise error
    assert received == [None, error]


def test_dispatch_all_receives_what_survived_policies_and_ancestors(recorder: Recorder) -> None:
    deferred: list[list[airlock.Intent]] = []

    class Deferred(airlock.Scope):
        def dispatch_all(self, intents: list[airlock.Intent]) -> None:
            deferred.append(list(intents))

    with airlock.scope(_cls=Deferred, policy=airlock.BlockTasks("other"), executor=recorder):
        airlock.enqueue(task, 1)
        airlock.enqueue("x.other", 2)
        with airlock.scope(executor=recorder):
            airlock.enqueue(task, 3)
    assert [args_of(batch) for batch in deferred] == [[1, 3]]
    assert recorder.intents == []


def test_dispatch_all_is_not_called_for_a_nested_scope_that_is_captured() -> None:
    calls: list[str] = []

    class Deferred(airlock.Scope):
        def dispatch_all(self, intents: list[airlock.Intent]) -> None:
            calls.append("inner")
            super().dispatch_all(intents)

    with airlock.scope(executor=Recorder()), airlock.scope(_cls=Deferred):
        airlock.enqueue(task, 1)
    assert calls == []


def test_overriding_the_deprecated_dispatch_all_alias_still_works_with_a_warning(
    recorder: Recorder,
) -> None:
    seen: list[list[int]] = []

    with pytest.warns(DeprecationWarning, match=r"override dispatch_all\(\) instead"):

        class Legacy(airlock.Scope):
            def _dispatch_all(self, intents: list[airlock.Intent]) -> None:
                seen.append(args_of(intents))
                super()._dispatch_all(intents)

    with airlock.scope(_cls=Legacy, executor=recorder):
        airlock.enqueue(task, 1)
        airlock.enqueue(task, 2)
    assert seen == [[1, 2]]
    assert args_of(recorder.intents) == [1, 2]
