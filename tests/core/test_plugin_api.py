"""The plugin-author API (``airlock.plugins``): what third parties build executors on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from coresupport import Recorder, run_block

import airlock
from airlock.plugins import DispatchLedger


def task(n: int) -> None:
    pass


def intents_of(count: int) -> list[airlock.Intent]:
    return [airlock.Intent(task, (n,)) for n in range(1, count + 1)]


def numbers(intents: Sequence[airlock.Intent]) -> list[int]:
    return [i.args[0] for i in intents]


# -- DispatchLedger ---------------------------------------------------------------


def test_a_ledger_whose_intents_all_went_out_settles_quietly() -> None:
    intents = intents_of(3)
    ledger = DispatchLedger(intents)
    ledger.dispatched(*intents)
    ledger.settle()
    assert ledger.pending == []


def test_the_third_of_five_failing_reports_as_a_sequential_flush_would() -> None:
    intents = intents_of(5)
    ledger = DispatchLedger(intents)
    ledger.dispatched(intents[0], intents[1])
    error = ConnectionError("broker went away")
    ledger.failed(intents[2], error)
    with pytest.raises(airlock.DispatchError) as caught:
        ledger.settle()
    assert numbers(caught.value.dispatched) == [1, 2]
    assert [(i.args[0], e) for i, e in caught.value.failed] == [(3, error)]
    assert numbers(caught.value.pending) == [4, 5]
    assert caught.value.__cause__ is error


def test_a_refused_batch_fails_as_a_whole_and_the_lists_keep_flush_order() -> None:
    intents = intents_of(6)
    ledger = DispatchLedger(intents)
    error = OSError("pipeline refused")
    ledger.failed(intents[3:5], error)  # recorded out of order on purpose
    ledger.dispatched(intents[2], intents[0], intents[1])
    with pytest.raises(airlock.DispatchError) as caught:
        ledger.settle()
    assert numbers(caught.value.dispatched) == [1, 2, 3]
    assert numbers([i for i, _ in caught.value.failed]) == [4, 5]
    assert numbers(caught.value.pending) == [6]


def test_intents_nobody_recorded_are_pending_never_silently_dispatched() -> None:
    intents = intents_of(2)
    ledger = DispatchLedger(intents)
    ledger.dispatched(intents[0])
    assert ledger.pending == [intents[1]]
    with pytest.raises(airlock.DispatchError) as caught:
        ledger.settle()
    assert numbers(caught.value.pending) == [2]
    assert caught.value.failed == []


def test_recording_an_intent_twice_is_a_usage_error_naming_it() -> None:
    intents = intents_of(1)
    ledger = DispatchLedger(intents)
    ledger.dispatched(intents[0])
    with pytest.raises(airlock.UsageError, match=r"task\(1\).*already recorded as dispatched"):
        ledger.failed(intents[0], RuntimeError("late"))


class HalfBatch:
    """A batching executor built on the ledger: every intent with an odd argument fails."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    def __call__(self, intent: airlock.Intent) -> None:
        self.dispatch_many([intent])

    def dispatch_many(self, intents: Sequence[airlock.Intent]) -> None:
        self.batches.append(numbers(intents))
        ledger = DispatchLedger(intents)
        for intent in intents:
            if intent.args[0] == 3:
                ledger.failed(intent, ValueError("three is refused"))
                break
            ledger.dispatched(intent)
        ledger.settle()


def test_a_scope_flushing_through_a_ledger_executor_raises_its_exact_accounting() -> None:
    executor = HalfBatch()

    def body() -> None:
        for n in range(1, 6):
            airlock.enqueue(task, n)

    with pytest.raises(airlock.DispatchError) as caught:
        run_block(airlock.scope(executor=executor), body)
    assert executor.batches == [[1, 2, 3, 4, 5]]
    assert numbers(caught.value.dispatched) == [1, 2]
    assert numbers([i for i, _ in caught.value.failed]) == [3]
    assert numbers(caught.value.pending) == [4, 5]


# -- the plugin manager -------------------------------------------------------


class Seen:
    def __init__(self) -> None:
        self.dispatched: list[int] = []

    @airlock.hookimpl
    def airlock_intent_dispatched(self, intent: airlock.Intent) -> None:
        self.dispatched.append(intent.args[0])


def test_a_plugin_registered_on_the_pluggy_manager_itself_has_its_hooks_called() -> None:
    seen = Seen()
    airlock.plugins.manager().register(seen, name="core-test-direct")
    try:
        with airlock.scope(executor=Recorder()):
            airlock.enqueue(task, 7)
    finally:
        airlock.plugins.manager().unregister(name="core-test-direct")
    assert seen.dispatched == [7]
    with airlock.scope(executor=Recorder()):
        airlock.enqueue(task, 8)
    assert seen.dispatched == [7]  # unregistered on the manager: no longer called


class Resolver:
    @airlock.hookimpl
    def airlock_resolve_task(self, name: str) -> object | None:
        return task if name == "core.test.registered" else None


def test_task_names_are_resolved_by_asking_the_plugins(
    register_plugin: Any,
) -> None:
    assert airlock.plugins.resolve_task("core.test.registered") is None
    register_plugin(Resolver(), "core-test-resolver")
    assert airlock.plugins.resolve_task("core.test.registered") is task
    assert airlock.plugins.resolve_task("os.system") is None


class Holder:
    def method(self) -> None:
        pass

    @staticmethod
    def static() -> None:
        pass


def made_inside() -> Any:
    def nested() -> None:
        pass

    return nested


def of_the_script() -> None:
    pass


of_the_script.__module__ = "__main__"


class CallableObject:
    def __call__(self) -> None:
        pass


@pytest.mark.parametrize(
    "task",
    [
        task,
        Holder.method,
        Holder().method,
        Holder.static,
        "package.module.function",
        len,
        CallableObject(),
    ],
)
def test_tasks_a_worker_can_import_by_path_have_no_problem(task: object) -> None:
    assert airlock.plugins.why_not_importable(task) is None


@pytest.mark.parametrize(
    ("task", "problem"),
    [
        ("send_email", "'send_email' is not a dotted path (write 'package.module.function')"),
        (".send_email", "'.send_email' is not a dotted path"),
        (lambda: None, "test_plugin_api.<lambda> cannot be imported (a lambda, a nested"),
        (made_inside(), "made_inside.<locals>.nested cannot be imported"),
        (of_the_script, "__main__.of_the_script cannot be imported"),
    ],
)
def test_why_a_worker_could_not_import_a_task_says_what_to_do(task: object, problem: str) -> None:
    reason = airlock.plugins.why_not_importable(task)
    assert reason is not None
    assert problem in reason
    assert reason.endswith("move it to a module") or "package.module.function" in reason


class WithOptions:
    message_id_option = "job_id"
    unsafe_options = frozenset({"on_success"})
    permanent_errors = (UnicodeError,)

    def __call__(self, intent: airlock.Intent) -> None:
        pass


def test_executor_declarations_are_read_and_checked() -> None:
    assert airlock.plugins.message_id_option(WithOptions()) == "job_id"
    assert airlock.plugins.unsafe_options(WithOptions()) == {"on_success"}
    assert airlock.plugins.message_id_option(airlock.sync_executor) is None
    assert airlock.plugins.unsafe_options(airlock.sync_executor) == frozenset()

    assert airlock.plugins.permanent_errors(WithOptions()) == (UnicodeError,)
    assert airlock.plugins.permanent_errors(airlock.sync_executor) == ()

    class Bad:
        message_id_option = 42
        unsafe_options = "link"
        permanent_errors = ValueError

    with pytest.raises(airlock.UsageError, match="message_id_option must be"):
        airlock.plugins.message_id_option(Bad())
    with pytest.raises(airlock.UsageError, match="unsafe_options must be"):
        airlock.plugins.unsafe_options(Bad())
    with pytest.raises(airlock.UsageError, match="permanent_errors must be"):
        airlock.plugins.permanent_errors(Bad())


def test_the_protocols_describe_executors_and_batch_executors() -> None:
    assert isinstance(airlock.sync_executor, airlock.Executor)
    assert isinstance(HalfBatch(), airlock.BatchExecutor)
    assert not isinstance(airlock.sync_executor, airlock.BatchExecutor)


# -- scope extension points --------------------------------------------------------


class Transactional(airlock.Scope):
    """A scope for another transaction system: intents wait for a commit flag."""

    committed: list[int] = []

    def intent_enqueued(self, intent: airlock.Intent) -> None:
        if intent.args[0] < 0:
            raise ValueError("negative numbers are refused")

    def dispatch_all(self, intents: list[airlock.Intent]) -> None:
        kept = [i for i in intents if i.args[0] % 2 == 0]
        self.report_discarded([i for i in intents if i.args[0] % 2])
        super().dispatch_all(kept)


class Discards:
    def __init__(self) -> None:
        self.discarded: list[list[int]] = []

    @airlock.hookimpl
    def airlock_scope_discarded(self, intents: Sequence[airlock.Intent]) -> None:
        self.discarded.append(numbers(intents))


def test_scope_extension_points_hear_each_intent_and_report_what_they_drop(
    register_plugin: Any,
) -> None:
    discards = Discards()
    register_plugin(discards, "core-test-discards")
    recorder = Recorder()
    with airlock.scope(_cls=Transactional, executor=recorder) as scope:
        airlock.enqueue(task, 1)
        airlock.enqueue(task, 2)
        with pytest.raises(ValueError, match="negative"):
            airlock.enqueue(task, -1)
        assert numbers(scope.intents) == [1, 2]  # the refused one was taken back out
    assert numbers(recorder.intents) == [2]
    assert discards.discarded == [[1]]


# -- dispatch and task hooks ---------------------------------------------------------


class Watcher:
    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    @airlock.hookimpl
    def airlock_dispatch_started(
        self, intents: Sequence[airlock.Intent], scope: airlock.Scope | None
    ) -> None:
        self.events.append(("started", numbers(intents), scope))

    @airlock.hookimpl
    def airlock_dispatch_finished(
        self, intents: Sequence[airlock.Intent], error: BaseException | None
    ) -> None:
        self.events.append(("finished", numbers(intents), type(error).__name__))

    @airlock.hookimpl
    def airlock_task_started(self, task_name: str, headers: dict[str, str]) -> None:
        self.events.append(("task started", task_name, dict(headers)))

    @airlock.hookimpl
    def airlock_task_finished(self, task_name: str, error: BaseException | None) -> None:
        self.events.append(("task finished", task_name, type(error).__name__))


def test_a_dispatch_told_not_to_log_still_raises_the_accounting(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("DEBUG", "airlock"), pytest.raises(airlock.DispatchError) as caught:
        airlock.plugins.dispatch(intents_of(3), HalfBatch(), log=False)
    assert numbers(caught.value.dispatched) == [1, 2]
    assert numbers([i for i, _ in caught.value.failed]) == [3]
    assert caplog.records == []
    with caplog.at_level("DEBUG", "airlock"), pytest.raises(airlock.DispatchError):
        airlock.plugins.dispatch(intents_of(3), HalfBatch())
    assert [r.levelname for r in caplog.records] == ["ERROR"]


def test_dispatch_hooks_frame_each_batch_with_its_scope_and_outcome(register_plugin: Any) -> None:
    watcher = Watcher()
    register_plugin(watcher, "core-test-watcher")
    ran: list[int] = []
    with airlock.scope() as scope:  # plain callables, in-process: the hooks still hear it
        airlock.enqueue(ran.append, 1)
    failing = airlock.scope(executor=HalfBatch())

    def body() -> None:
        airlock.enqueue(task, 2)
        airlock.enqueue(task, 3)

    with pytest.raises(airlock.DispatchError):
        run_block(failing, body)
    assert ran == [1]
    assert watcher.events == [
        ("started", [1], scope),
        ("finished", [1], "NoneType"),
        ("started", [2, 3], failing),
        ("finished", [2, 3], "DispatchError"),
    ]


class Interrupting:
    def __call__(self, intent: airlock.Intent) -> None:
        raise KeyboardInterrupt


def test_an_interrupted_dispatch_still_finishes_what_it_started(register_plugin: Any) -> None:
    watcher = Watcher()
    register_plugin(watcher, "core-test-watcher")
    with pytest.raises(KeyboardInterrupt):
        airlock.plugins.dispatch(intents_of(2), Interrupting())
    assert watcher.events == [
        ("started", [1, 2], None),
        ("finished", [1, 2], "KeyboardInterrupt"),
    ]


def test_running_task_tells_the_plugins_around_a_task_run(register_plugin: Any) -> None:
    watcher = Watcher()
    with airlock.plugins.running_task("shop.tasks.charge", {"traceparent": "00-abc"}):
        pass  # no plugin listens: nothing to call
    register_plugin(watcher, "core-test-watcher")
    with pytest.raises(KeyError), airlock.plugins.running_task("shop.tasks.charge"):
        raise KeyError("card")
    with airlock.plugins.running_task("shop.tasks.ship", {"traceparent": "00-def"}):
        pass
    assert watcher.events == [
        ("task started", "shop.tasks.charge", {}),
        ("task finished", "shop.tasks.charge", "KeyError"),
        ("task started", "shop.tasks.ship", {"traceparent": "00-def"}),
        ("task finished", "shop.tasks.ship", "NoneType"),
    ]


def test_running_task_hands_plugins_only_the_string_pairs_of_a_message(
    register_plugin: Any,
) -> None:
    watcher = Watcher()
    register_plugin(watcher, "core-test-watcher")
    for carried in (["00-abc"], "00-abc", {"traceparent": "00-abc", "hops": 3, 7: "x"}):
        with airlock.plugins.running_task("shop.tasks.charge", carried):
            pass
    started = [event[2] for event in watcher.events if event[0] == "task started"]
    assert started == [{}, {}, {"traceparent": "00-abc"}]


class Opaque:
    """A framework's task object with no name airlock could read."""

    def __call__(self) -> None:
        pass


class Namer:
    @airlock.hookimpl
    def airlock_task_reference(self, task: object) -> str | None:
        return "jobs.opaque" if isinstance(task, Opaque) else None


class BrokenNamer:
    @airlock.hookimpl
    def airlock_task_reference(self, task: object) -> str | None:
        raise RuntimeError("naming failed")


def test_a_plugin_names_the_tasks_airlock_cannot_name(register_plugin: Any) -> None:
    task_object = Opaque()
    assert airlock.Intent(task_object).name == "Opaque"
    register_plugin(Namer(), "core-test-namer")
    assert airlock.Intent(task_object).name == "opaque"
    assert airlock.plugins.task_reference(task_object) == "jobs.opaque"
    assert airlock.plugins.task_reference(task) == f"{__name__}.task"  # asked only when needed


def test_a_naming_hook_that_fails_never_breaks_describing_an_intent(register_plugin: Any) -> None:
    register_plugin(BrokenNamer(), "core-test-broken-namer")
    assert repr(airlock.Intent(Opaque(), (1,))) == "<Intent Opaque(1)>"
