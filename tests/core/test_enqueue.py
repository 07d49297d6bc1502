"""enqueue(): what it buffers, and every way of calling it wrong (SPEC §3)."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from types import MappingProxyType
from typing import Any

import coresupport
import pytest
from coresupport import Recorder

import airlock


def send_email(*args: Any, **kwargs: Any) -> None:
    pass


def test_enqueue_buffers_and_nothing_runs_before_the_scope_ends(recorder: Recorder) -> None:
    with airlock.scope(executor=recorder) as scope:
        airlock.enqueue(send_email, 1, subject="hi")
        assert recorder.intents == []
        assert [i.name for i in scope.intents] == ["send_email"]
    assert recorder.calls == [("send_email", (1,), {"subject": "hi"})]


def test_intent_carries_task_args_kwargs(recorder: Recorder) -> None:
    with airlock.scope(executor=recorder) as scope:
        airlock.enqueue(send_email, 1, 2, a=3)
    (intent,) = scope.intents
    assert intent.task is send_email
    assert intent.args == (1, 2)
    assert dict(intent.kwargs) == {"a": 3}
    assert intent.dispatch_options is None
    assert intent.local_policies == ()


def test_keyword_arguments_may_be_called_task_or_args(recorder: Recorder) -> None:
    with airlock.scope(executor=recorder):
        airlock.enqueue(send_email, task="t", args="a", kwargs="k")
    assert recorder.calls == [("send_email", (), {"task": "t", "args": "a", "kwargs": "k"})]


def test_string_task_runs_by_dotted_path_under_the_sync_executor() -> None:
    coresupport.LOG.clear()
    with airlock.scope(executor="sync"):
        airlock.enqueue("coresupport.append_to_log", "x", n=1)
        assert coresupport.LOG == []
    assert coresupport.LOG == [(("x",), {"n": 1})]


def test_string_task_name_is_kept_for_other_executors(recorder: Recorder) -> None:
    with airlock.scope(executor=recorder):
        airlock.enqueue("proj.tasks.send_email", 7)
    assert recorder.intents[0].task == "proj.tasks.send_email"
    assert recorder.names == ["send_email"]


def test_dispatch_options_travel_to_the_executor_apart_from_kwargs(recorder: Recorder) -> None:
    with airlock.scope(executor=recorder):
        airlock.enqueue(send_email, 1, _dispatch_options={"countdown": 60, "queue": "mail"})
    (intent,) = recorder.intents
    assert dict(intent.dispatch_options or {}) == {"countdown": 60, "queue": "mail"}
    assert dict(intent.kwargs) == {}


def test_dispatch_options_accept_any_mapping_and_are_copied(recorder: Recorder) -> None:
    options = {"priority": 3}
    with airlock.scope(executor=recorder):
        airlock.enqueue(send_email, _dispatch_options=MappingProxyType(options))
        airlock.enqueue(send_email, _dispatch_options=options)
        options["priority"] = 9
    assert [dict(i.dispatch_options or {}) for i in recorder.intents] == [
        {"priority": 3},
        {"priority": 3},
    ]


@pytest.mark.parametrize("task", [None, 42, b"send_email", object(), ["send_email"]])
def test_a_non_callable_task_is_a_usage_error_and_loses_nothing(
    recorder: Recorder, task: object
) -> None:
    with airlock.scope(executor=recorder) as scope:
        airlock.enqueue(send_email, "kept")
        with pytest.raises(airlock.UsageError, match="needs a callable, a task object"):
            airlock.enqueue(task)  # type: ignore[arg-type]
        assert len(scope.intents) == 1
    assert recorder.calls == [("send_email", ("kept",), {})]


@pytest.mark.parametrize("options", [[("countdown", 1)], "countdown=1", 5, ("queue",)])
def test_dispatch_options_that_are_not_a_mapping_are_a_usage_error(
    recorder: Recorder, options: object
) -> None:
    with airlock.scope(executor=recorder) as scope:
        airlock.enqueue(send_email, "kept")
        with pytest.raises(airlock.UsageError, match="_dispatch_options must be a mapping"):
            airlock.enqueue(send_email, _dispatch_options=options)  # type: ignore[arg-type]
        assert len(scope.intents) == 1
    assert recorder.calls == [("send_email", ("kept",), {})]


def test_enqueue_outside_any_scope_raises_no_scope_error() -> None:
    with pytest.raises(airlock.NoScopeError, match=r"airlock\.scope\(\)") as caught:
        airlock.enqueue(send_email, 1)
    assert isinstance(caught.value, airlock.UsageError)
    assert "send_email" in str(caught.value)


def test_enqueue_after_the_scope_ended_raises_scope_state_error() -> None:
    with airlock.scope():
        context = contextvars.copy_context()
    with pytest.raises(airlock.ScopeStateError, match="already"):
        context.run(airlock.enqueue, send_email, 1)


def test_thread_started_with_a_copied_context_that_outlives_its_scope(
    recorder: Recorder,
) -> None:
    scope_ended = threading.Event()
    outcome: list[BaseException | None] = []

    def late_work() -> None:
        scope_ended.wait(timeout=10)
        try:
            airlock.enqueue(send_email, "late")
        except airlock.AirlockError as exc:
            outcome.append(exc)
        else:
            outcome.append(None)

    with airlock.scope(executor=recorder) as scope:
        airlock.enqueue(send_email, "on time")
        worker = threading.Thread(target=contextvars.copy_context().run, args=(late_work,))
        worker.start()
    scope_ended.set()
    worker.join(timeout=10)
    assert len(outcome) == 1
    assert isinstance(outcome[0], airlock.ScopeStateError)
    assert recorder.calls == [("send_email", ("on time",), {})]
    assert [i.args for i in scope.intents] == [("on time",)]


def test_thread_with_a_copied_context_buffers_into_the_open_scope(recorder: Recorder) -> None:
    with airlock.scope(executor=recorder) as scope:
        worker = threading.Thread(
            target=contextvars.copy_context().run, args=(airlock.enqueue, send_email, "t")
        )
        worker.start()
        worker.join(timeout=10)
        assert [i.args for i in scope.intents] == [("t",)]
    assert recorder.calls == [("send_email", ("t",), {})]


def test_a_plain_thread_does_not_see_the_scope_of_its_creator() -> None:
    outcome: list[BaseException] = []

    def work() -> None:
        try:
            airlock.enqueue(send_email)
        except airlock.AirlockError as exc:
            outcome.append(exc)

    with airlock.scope() as scope:
        worker = threading.Thread(target=work)
        worker.start()
        worker.join(timeout=10)
    assert [type(e) for e in outcome] == [airlock.NoScopeError]
    assert scope.intents == []


def test_asyncio_task_outliving_its_scope_raises_scope_state_error(recorder: Recorder) -> None:
    async def main() -> BaseException | None:
        release = asyncio.Event()

        async def late() -> BaseException | None:
            await release.wait()
            try:
                airlock.enqueue(send_email, "late")
            except airlock.AirlockError as exc:
                return exc
            return None

        async with airlock.scope(executor=recorder):
            task = asyncio.create_task(late())
            await asyncio.sleep(0)
        release.set()
        return await task

    outcome = asyncio.run(main())
    assert isinstance(outcome, airlock.ScopeStateError)
    assert recorder.intents == []


class EnqueueingPolicy:
    """A policy that (wrongly) tries to enqueue from its callbacks."""

    def __init__(self) -> None:
        self.errors: list[BaseException] = []

    def _try(self) -> None:
        try:
            airlock.enqueue(send_email, "from policy")
        except airlock.AirlockError as exc:
            self.errors.append(exc)

    def on_enqueue(self, intent: airlock.Intent) -> None:
        self._try()

    def allows(self, intent: airlock.Intent) -> bool:
        self._try()
        return True


def test_enqueue_from_a_scope_policy_raises_policy_enqueue_error(recorder: Recorder) -> None:
    policy = EnqueueingPolicy()
    with airlock.scope(policy=policy, executor=recorder) as scope:
        airlock.enqueue(send_email, "real")
    assert [type(e) for e in policy.errors] == [airlock.PolicyEnqueueError] * 2
    assert all(isinstance(e, airlock.UsageError) for e in policy.errors)
    assert recorder.calls == [("send_email", ("real",), {})]
    assert len(scope.intents) == 1


def test_enqueue_from_a_layered_policy_raises_policy_enqueue_error(recorder: Recorder) -> None:
    policy = EnqueueingPolicy()
    with airlock.scope(executor=recorder), airlock.policy(policy):
        airlock.enqueue(send_email, "real")
    assert [type(e) for e in policy.errors] == [airlock.PolicyEnqueueError] * 2
    assert recorder.calls == [("send_email", ("real",), {})]


class RaisingEnqueuePolicy:
    def on_enqueue(self, intent: airlock.Intent) -> None:
        if intent.args == ("trigger",):
            airlock.enqueue(send_email, "nested")

    def allows(self, intent: airlock.Intent) -> bool:
        return True


def test_policy_enqueue_error_propagates_and_keeps_earlier_intents(recorder: Recorder) -> None:
    with airlock.scope(policy=RaisingEnqueuePolicy(), executor=recorder) as scope:
        airlock.enqueue(send_email, "first")
        with pytest.raises(airlock.PolicyEnqueueError):
            airlock.enqueue(send_email, "trigger")
        assert [i.args for i in scope.intents] == [("first",)]
    assert recorder.calls == [("send_email", ("first",), {})]


def test_opening_a_scope_inside_a_policy_callback_is_refused() -> None:
    errors: list[BaseException] = []

    class ScopeOpeningPolicy:
        def allows(self, intent: airlock.Intent) -> bool:
            return True

        def on_enqueue(self, intent: airlock.Intent) -> None:
            try:
                with airlock.scope():
                    pass
            except airlock.AirlockError as exc:
                errors.append(exc)

    with airlock.scope(policy=ScopeOpeningPolicy()):
        airlock.enqueue(send_email)
    assert [type(e) for e in errors] == [airlock.PolicyEnqueueError]
