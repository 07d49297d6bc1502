"""Nested scopes: the outermost has authority; provenance; before_descendant_flushes;
policy() layers apply where the intent was enqueued."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from typing import Any

import pytest
from coresupport import Recorder, raise_after, run_block

import airlock


def task_a(*args: Any) -> None:
    pass


def task_b(*args: Any) -> None:
    pass


class Boom(Exception):
    pass


def test_inner_intents_are_captured_and_go_out_with_the_outer_flush(recorder: Recorder) -> None:
    with airlock.scope(executor=recorder) as outer:
        airlock.enqueue(task_a, "outer 1")
        with airlock.scope(executor=recorder) as inner:
            airlock.enqueue(task_a, "inner")
        assert inner.is_flushed
        assert recorder.intents == []
        airlock.enqueue(task_a, "outer 2")
        assert [i.args for i in outer.own_intents] == [("outer 1",), ("outer 2",)]
        assert [i.args for i in outer.captured_intents] == [("inner",)]
        assert [i.args for i in outer.intents] == [("outer 1",), ("inner",), ("outer 2",)]
        assert inner.own_intents == inner.intents
        assert inner.captured_intents == []
    assert [i.args for i in recorder.intents] == [("outer 1",), ("inner",), ("outer 2",)]


def test_the_nearest_open_ancestor_captures(recorder: Recorder) -> None:
    with airlock.scope(executor=recorder) as outer:
        with airlock.scope(executor=recorder) as middle:
            with airlock.scope(executor=recorder):
                airlock.enqueue(task_a, "innermost")
            assert [i.args for i in middle.captured_intents] == [("innermost",)]
            assert outer.intents == []
        assert [i.args for i in outer.captured_intents] == [("innermost",)]
    assert [i.args for i in recorder.intents] == [("innermost",)]


def test_a_discarded_inner_scope_loses_its_intents_but_the_outer_flushes_its_own(
    recorder: Recorder,
) -> None:
    with airlock.scope(executor=recorder) as outer:
        airlock.enqueue(task_a, "outer")
        inner = airlock.scope(executor=recorder)
        with pytest.raises(Boom):
            run_block(inner, raise_after(Boom(), (task_a, "inner")))
        assert inner.is_discarded
        assert outer.captured_intents == []
    assert [i.args for i in recorder.intents] == [("outer",)]


def test_a_discarded_outer_scope_loses_what_it_captured(recorder: Recorder) -> None:
    def body() -> None:
        with airlock.scope(executor=recorder):
            airlock.enqueue(task_a, "inner")
        raise Boom

    with pytest.raises(Boom):
        run_block(airlock.scope(executor=recorder), body)
    assert recorder.intents == []


def test_inner_policy_applies_before_capture(recorder: Recorder) -> None:
    with airlock.scope(executor=recorder) as outer:
        with airlock.scope(policy=airlock.BlockTasks("task_b"), executor=recorder):
            airlock.enqueue(task_a, 1)
            airlock.enqueue(task_b, 2)
        with airlock.scope(policy="drop_all", executor=recorder):
            airlock.enqueue(task_a, 3)
        assert [i.args for i in outer.captured_intents] == [(1,)]
    assert [i.args for i in recorder.intents] == [(1,)]


def test_outer_policy_applies_again_to_captured_intents(recorder: Recorder) -> None:
    with airlock.scope(policy=airlock.BlockTasks("task_b"), executor=recorder):
        airlock.enqueue(task_b, "own")
        with airlock.scope(executor=recorder):
            airlock.enqueue(task_a, "captured a")
            airlock.enqueue(task_b, "captured b")
    assert [i.args for i in recorder.intents] == [("captured a",)]


def test_the_outer_executor_dispatches_captured_intents() -> None:
    outer_executor, inner_executor = Recorder(), Recorder()
    with airlock.scope(executor=outer_executor), airlock.scope(executor=inner_executor):
        airlock.enqueue(task_a)
    assert inner_executor.intents == []
    assert outer_executor.names == ["task_a"]


def test_dedupe_on_the_outer_scope_sees_captured_copies(recorder: Recorder) -> None:
    with airlock.scope(policy="dedupe", executor=recorder):
        for _ in range(3):
            with airlock.scope(executor=recorder):
                airlock.enqueue(task_a, 1)
    assert len(recorder.intents) == 1


# -- policy() layers ----------------------------------------------------------


class Recording:
    """A layer that records which scope judged which intent, and allows per a rule."""

    def __init__(self, allow: bool = True) -> None:
        self.allow = allow
        self.enqueued: list[airlock.Intent] = []
        self.judged: list[tuple[airlock.Scope | None, airlock.Intent]] = []

    def on_enqueue(self, intent: airlock.Intent) -> None:
        self.enqueued.append(intent)

    def allows(self, intent: airlock.Intent) -> bool:
        self.judged.append((airlock.get_current_scope(), intent))
        return self.allow


def test_a_layer_drops_only_what_was_enqueued_inside_it(recorder: Recorder) -> None:
    with airlock.scope(executor=recorder) as scope:
        airlock.enqueue(task_a, "before")
        with airlock.policy(airlock.DropAll()) as layer:
            assert isinstance(layer, airlock.DropAll)
            airlock.enqueue(task_a, "inside")
        airlock.enqueue(task_a, "after")
        assert len(scope.intents) == 3
    assert [i.args for i in recorder.intents] == [("before",), ("after",)]


def test_a_layer_applies_at_the_scope_where_the_intent_was_enqueued(recorder: Recorder) -> None:
    layer = Recording()
    with airlock.scope(executor=recorder) as outer, airlock.policy(layer):
        airlock.enqueue(task_a, "outer")
        with airlock.scope(executor=recorder) as inner:
            airlock.enqueue(task_a, "inner")
    judged = [(scope, intent.args) for scope, intent in layer.judged]
    assert judged == [(inner, ("inner",)), (outer, ("outer",))]
    assert [i.args for i in layer.enqueued] == [("outer",), ("inner",)]
    assert [i.args for i in recorder.intents] == [("outer",), ("inner",)]


def test_a_layer_dropping_in_the_inner_scope_means_nothing_is_captured(
    recorder: Recorder,
) -> None:
    with airlock.scope(executor=recorder) as outer:
        with airlock.policy(airlock.BlockTasks("task_b")), airlock.scope(executor=recorder):
            airlock.enqueue(task_a)
            airlock.enqueue(task_b)
        assert [i.name for i in outer.captured_intents] == ["task_a"]
        airlock.enqueue(task_b, "outside the layer")
    assert recorder.names == ["task_a", "task_b"]


def test_layers_stack_and_the_scope_policy_still_applies(recorder: Recorder) -> None:
    with airlock.scope(policy=airlock.BlockTasks("task_b"), executor=recorder):
        with airlock.policy(airlock.BlockTasks("task_a")):
            airlock.enqueue(task_a, 1)
            with airlock.policy(airlock.AllowAll()):
                airlock.enqueue(task_a, 2)
                airlock.enqueue(task_b, 3)
        airlock.enqueue(task_a, 4)
        airlock.enqueue(task_b, 5)
    assert [i.args for i in recorder.intents] == [(4,)]


def test_the_innermost_layer_judges_first_and_a_refusal_stops_the_chain(
    recorder: Recorder,
) -> None:
    outer_layer, inner_layer = Recording(), Recording(allow=False)
    with (
        airlock.scope(executor=recorder),
        airlock.policy(outer_layer),
        airlock.policy(inner_layer),
    ):
        airlock.enqueue(task_a)
    assert len(inner_layer.judged) == 1
    assert outer_layer.judged == []
    assert recorder.intents == []


def test_a_layer_is_not_applied_again_when_the_parent_flushes(recorder: Recorder) -> None:
    layer = Recording()
    with (
        airlock.scope(executor=recorder),
        airlock.scope(executor=recorder),
        airlock.policy(layer),
    ):
        airlock.enqueue(task_a)
    assert len(layer.judged) == 1
    assert recorder.names == ["task_a"]


def test_a_layer_refusing_at_enqueue_buffers_nothing(recorder: Recorder) -> None:
    strict = airlock.BlockTasks("task_b", raise_on_enqueue=True)
    with airlock.scope(executor=recorder) as scope:
        with airlock.policy(strict):
            airlock.enqueue(task_a)
            with pytest.raises(airlock.PolicyViolation):
                airlock.enqueue(task_b)
        airlock.enqueue(task_b)
        assert [i.name for i in scope.intents] == ["task_a", "task_b"]
    assert recorder.names == ["task_a", "task_b"]


def test_a_layer_outside_any_scope_is_harmless_and_reaches_later_scopes(
    recorder: Recorder,
) -> None:
    with airlock.policy(airlock.DropAll()):
        with pytest.raises(airlock.NoScopeError):
            airlock.enqueue(task_a)
        with airlock.scope(executor=recorder):
            airlock.enqueue(task_a)
    assert recorder.intents == []


async def _async_layer(recorder: Recorder) -> None:
    async with airlock.scope(executor=recorder):
        async with airlock.policy(airlock.DropAll()):
            airlock.enqueue(task_a, "dropped")
        airlock.enqueue(task_a, "kept")


def test_a_layer_works_with_async_with(recorder: Recorder) -> None:
    asyncio.run(_async_layer(recorder))
    assert [i.args for i in recorder.intents] == [("kept",)]


# -- before_descendant_flushes ------------------------------------------------


class Porous(airlock.Scope):
    """Lets nested intents of the named tasks escape immediately; captures the rest."""

    def __init__(self, *, let_through: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.let_through = let_through
        self.asked: list[tuple[airlock.Scope, list[airlock.Intent]]] = []

    def before_descendant_flushes(
        self, exiting_scope: airlock.Scope, intents: list[airlock.Intent]
    ) -> list[airlock.Intent]:
        self.asked.append((exiting_scope, list(intents)))
        return [i for i in intents if i.name in self.let_through]


class AllowEverything(Porous):
    def before_descendant_flushes(
        self, exiting_scope: airlock.Scope, intents: list[airlock.Intent]
    ) -> list[airlock.Intent]:
        self.asked.append((exiting_scope, list(intents)))
        return intents


def test_an_ancestor_allowing_all_lets_the_inner_scope_dispatch_now() -> None:
    outer_executor, inner_executor = Recorder(), Recorder()
    with airlock.scope(_cls=AllowEverything, executor=outer_executor) as outer:
        with airlock.scope(executor=inner_executor) as inner:
            airlock.enqueue(task_a, 1)
        assert inner_executor.names == ["task_a"]
        assert outer.captured_intents == []
        assert [(s, [i.args for i in its]) for s, its in outer.asked] == [(inner, [(1,)])]
    assert outer_executor.intents == []


def test_an_ancestor_allowing_some_captures_the_rest(recorder: Recorder) -> None:
    with airlock.scope(_cls=Porous, let_through=("task_a",), executor=recorder) as outer:
        with airlock.scope(executor=recorder):
            airlock.enqueue(task_a, 1)
            airlock.enqueue(task_b, 2)
            airlock.enqueue(task_a, 3)
        assert [i.args for i in recorder.intents] == [(1,), (3,)]
        assert [i.args for i in outer.captured_intents] == [(2,)]
    assert [i.args for i in recorder.intents] == [(1,), (3,), (2,)]


def test_an_ancestor_allowing_none_captures_all(recorder: Recorder) -> None:
    with airlock.scope(_cls=Porous, executor=recorder) as outer:
        with airlock.scope(executor=recorder):
            airlock.enqueue(task_a, 1)
        assert recorder.intents == []
        assert [i.args for i in outer.captured_intents] == [(1,)]
    assert recorder.names == ["task_a"]


def test_ancestors_are_asked_innermost_first_each_about_what_the_previous_let_through(
    recorder: Recorder,
) -> None:
    with airlock.scope(_cls=Porous, let_through=("task_a",), executor=recorder) as outer:
        with airlock.scope(
            _cls=Porous, let_through=("task_a", "task_b"), executor=recorder
        ) as middle:
            with airlock.scope(executor=recorder) as inner:
                airlock.enqueue(task_a, 1)
                airlock.enqueue(task_b, 2)
                airlock.enqueue("x.task_c", 3)
            assert [(s, [i.args for i in its]) for s, its in middle.asked] == [
                (inner, [(1,), (2,), (3,)])
            ]
            assert [(s, [i.args for i in its]) for s, its in outer.asked] == [(inner, [(1,), (2,)])]
            assert [i.args for i in recorder.intents] == [(1,)]
            assert [i.args for i in middle.captured_intents] == [(3,)]
            assert [i.args for i in outer.captured_intents] == [(2,)]
        assert [(s, [i.args for i in its]) for s, its in outer.asked][1:] == [(middle, [(3,)])]
    assert [i.args for i in recorder.intents] == [(1,), (2,), (3,)]


def test_ancestors_see_only_what_the_inner_policy_allowed(recorder: Recorder) -> None:
    with airlock.scope(_cls=Porous, executor=recorder) as outer:
        with airlock.scope(policy=airlock.BlockTasks("task_b"), executor=recorder):
            airlock.enqueue(task_a)
            airlock.enqueue(task_b)
        with airlock.scope(policy="drop_all", executor=recorder):
            airlock.enqueue(task_a)
    assert [[i.name for i in its] for _, its in outer.asked] == [["task_a"]]


@pytest.mark.parametrize("answer", [(), ("not", "a", "list"), None, {1}])
def test_a_non_list_answer_is_a_usage_error_and_the_intents_stay_readable(
    recorder: Recorder, answer: object
) -> None:
    class Broken(airlock.Scope):
        def before_descendant_flushes(
            self, exiting_scope: airlock.Scope, intents: list[airlock.Intent]
        ) -> list[airlock.Intent]:
            return answer  # type: ignore[return-value]

    with airlock.scope(_cls=Broken, executor=recorder):
        inner = airlock.scope(executor=recorder)
        with pytest.raises(airlock.UsageError, match="must return a list"), inner:
            airlock.enqueue(task_a, 1)
        assert [i.args for i in inner.intents] == [(1,)]
    assert recorder.intents == []


def test_reentering_an_active_policy_layer_does_not_leak_it(recorder: Recorder) -> None:
    layer = airlock.policy(airlock.DropAll())

    def reenter() -> None:
        with layer:
            airlock.enqueue(task_a, "inside")

    def run() -> None:
        with airlock.scope(executor=recorder):
            # Refusing to re-enter is fine too; leaking the layer is not.
            with layer, contextlib.suppress(airlock.UsageError):
                reenter()
            airlock.enqueue(task_a, "after")
            with layer:
                airlock.enqueue(task_a, "again inside")
            airlock.enqueue(task_a, "after again")

    # A leaked layer would drop every later effect of this context: keep it out of the suite's.
    contextvars.copy_context().run(run)
    assert [i.args for i in recorder.intents] == [("after",), ("after again",)]


def test_one_policy_layer_object_shared_by_two_threads(recorder: Recorder) -> None:
    layer = airlock.policy(airlock.DropAll())
    first_inside, second_inside = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def worker(name: str, entered: threading.Event, wait_for: threading.Event) -> None:
        try:
            with airlock.scope(executor=recorder):
                with layer:
                    entered.set()
                    wait_for.wait(timeout=10)
                    airlock.enqueue(task_a, name, "inside")
                airlock.enqueue(task_a, name, "after")
        except Exception as exc:
            errors.append(exc)
        finally:
            entered.set()

    first = threading.Thread(target=worker, args=("first", first_inside, second_inside))
    no_wait = threading.Event()
    no_wait.set()
    second = threading.Thread(target=worker, args=("second", second_inside, no_wait))
    first.start()
    first_inside.wait(timeout=10)
    second.start()
    first.join(timeout=10)
    second.join(timeout=10)
    assert errors == []
    assert sorted(i.args for i in recorder.intents) == [("first", "after"), ("second", "after")]


def test_scopes_of_concurrent_child_tasks_are_captured_by_the_enclosing_scope(
    recorder: Recorder,
) -> None:
    async def child(n: int) -> None:
        async with airlock.scope(executor=recorder):
            airlock.enqueue(task_a, n)
            await asyncio.sleep(0)
            airlock.enqueue(task_b, n)

    async def main() -> airlock.Scope:
        async with airlock.scope(executor=recorder) as outer:
            await asyncio.gather(*(child(n) for n in range(50)))
            assert recorder.intents == []
        return outer

    outer = asyncio.run(main())
    assert outer.own_intents == []
    assert len(outer.captured_intents) == 100
    assert sorted(i.args[0] for i in recorder.intents if i.name == "task_a") == list(range(50))
    for n in range(50):
        names = [i.name for i in recorder.intents if i.args == (n,)]
        assert names == ["task_a", "task_b"]


def test_scopes_of_threads_with_copied_contexts_are_captured_by_the_enclosing_scope(
    recorder: Recorder,
) -> None:
    def child(n: int) -> None:
        with airlock.scope(executor=recorder):
            airlock.enqueue(task_a, n)

    with airlock.scope(executor=recorder) as outer:
        workers = [
            threading.Thread(target=contextvars.copy_context().run, args=(child, n))
            for n in range(16)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=10)
        assert recorder.intents == []
    assert sorted(i.args[0] for i in outer.captured_intents) == list(range(16))
    assert len(recorder.intents) == 16


def test_work_that_outlives_its_scope_can_open_its_own(recorder: Recorder) -> None:
    with airlock.scope(policy="drop_all", executor=recorder):
        stale = contextvars.copy_context()

    def late_work() -> airlock.Scope:
        with airlock.scope(executor=recorder) as own:
            airlock.enqueue(task_a, "late")
        return own

    own = stale.run(late_work)
    assert own.is_flushed
    assert [i.args for i in recorder.intents] == [("late",)]


def test_flush_of_a_captured_scope_returns_nothing_sent(recorder: Recorder) -> None:
    with airlock.scope(executor=recorder) as outer:
        inner = airlock.scope(executor=recorder)
        inner.enter()
        airlock.enqueue(task_a, 1)
        inner.exit()
        assert inner.flush() == []
        assert [i.args for i in outer.captured_intents] == [(1,)]
    assert [i.args for i in recorder.intents] == [(1,)]


def test_the_capturing_scope_policy_screens_what_nested_scopes_release(
    recorder: Recorder,
) -> None:
    with airlock.scope(policy=airlock.AssertNoEffects(), executor=recorder) as outer:
        inner = airlock.scope(executor=recorder)
        with pytest.raises(airlock.PolicyViolation):
            run_block(inner, lambda: airlock.enqueue(task_a, 1))
        assert inner.is_flushed
        assert outer.intents == []
        with airlock.scope(policy="drop_all", executor=recorder):
            airlock.enqueue(task_a, "dropped before capture: nothing to refuse")
    assert recorder.intents == []


def test_a_strict_outer_block_refuses_a_captured_blocked_task_only(recorder: Recorder) -> None:
    strict = airlock.BlockTasks("task_b", raise_on_enqueue=True)
    with airlock.scope(policy=strict, executor=recorder) as outer:
        with airlock.scope(executor=recorder):
            airlock.enqueue(task_a, 1)
        inner = airlock.scope(executor=recorder)
        with pytest.raises(airlock.PolicyViolation, match="task_b"):
            run_block(inner, lambda: [airlock.enqueue(task_a, 2), airlock.enqueue(task_b, 3)])
        assert [i.args for i in outer.captured_intents] == [(1,)]
    assert [i.args for i in recorder.intents] == [(1,)]
