"""scope() and scoped(): blocks, decorators, selection by name, inspection."""

from __future__ import annotations

import asyncio
from typing import Any

import coresupport
import pytest
from coresupport import Recorder, raise_after, run_block

import airlock


def send_email(*args: Any, **kwargs: Any) -> None:
    pass


class Boom(Exception):
    pass


def test_with_yields_the_scope_and_flushes_on_normal_exit(recorder: Recorder) -> None:
    with airlock.scope(executor=recorder) as scope:
        assert isinstance(scope, airlock.Scope)
        assert scope.is_active
        airlock.enqueue(send_email, 1)
    assert scope.is_flushed
    assert not scope.is_active
    assert not scope.is_discarded
    assert recorder.calls == [("send_email", (1,), {})]


def test_an_exception_discards_and_propagates(recorder: Recorder) -> None:
    scope = airlock.scope(executor=recorder)
    with pytest.raises(Boom):
        run_block(scope, raise_after(Boom(), (send_email, 1)))
    assert scope.is_discarded
    assert not scope.is_flushed
    assert scope.intents == []
    assert recorder.intents == []


def test_async_with_flushes_and_discards(recorder: Recorder) -> None:
    async def main() -> tuple[airlock.Scope, airlock.Scope]:
        async with airlock.scope(executor=recorder) as good:
            airlock.enqueue(send_email, "good")
            await asyncio.sleep(0)
        bad = airlock.scope(executor=recorder)

        async def failing_block() -> None:
            async with bad:
                airlock.enqueue(send_email, "bad")
                await asyncio.sleep(0)
                raise Boom

        with pytest.raises(Boom):
            await failing_block()
        return good, bad

    good, bad = asyncio.run(main())
    assert good.is_flushed
    assert bad.is_discarded
    assert recorder.calls == [("send_email", ("good",), {})]


def test_intents_stay_readable_after_flush_and_are_cleared_by_discard() -> None:
    with airlock.scope(policy=airlock.DropAll()) as dropped:
        airlock.enqueue(send_email, 1)
    assert [i.args for i in dropped.intents] == [(1,)]
    discarded = airlock.scope()
    with pytest.raises(Boom):
        run_block(discarded, raise_after(Boom(), (send_email, 1)))
    assert discarded.intents == []


def test_intents_is_a_copy() -> None:
    with airlock.scope(executor=Recorder()) as scope:
        airlock.enqueue(send_email)
        scope.intents.clear()
        scope.own_intents.clear()
        assert len(scope.intents) == 1


def test_manual_lifecycle_returns_what_went_out_and_what_was_dropped(recorder: Recorder) -> None:
    scope = airlock.scope(executor=recorder, policy=airlock.BlockTasks("blocked"))
    assert not scope.is_active
    scope.enter()
    airlock.enqueue(send_email, 1)
    airlock.enqueue("x.blocked")
    scope.exit()
    assert not scope.is_active
    assert not scope.is_flushed
    sent = scope.flush()
    assert [i.name for i in sent] == ["send_email"]
    assert recorder.intents == sent

    other = airlock.scope(executor=recorder)
    other.enter()
    airlock.enqueue(send_email, 2)
    other.exit()
    dropped = other.discard()
    assert [i.args for i in dropped] == [(2,)]
    assert len(recorder.intents) == 1


def test_get_current_scope_is_the_innermost_open_scope() -> None:
    assert airlock.get_current_scope() is None
    with airlock.scope() as outer:
        assert airlock.get_current_scope() is outer
        with airlock.scope() as inner:
            assert airlock.get_current_scope() is inner
        assert airlock.get_current_scope() is outer
    assert airlock.get_current_scope() is None


def test_parent_is_the_scope_current_at_entry() -> None:
    outer, inner = airlock.scope(), airlock.scope()
    assert outer.parent is None  # not entered yet
    assert inner.parent is None
    with outer, inner:
        assert inner.parent is outer
        assert outer.parent is None
    assert inner.parent is outer  # kept after the block


def test_get_current_scope_inside_a_policy_callback_is_the_judging_scope() -> None:
    seen: list[airlock.Scope | None] = []

    class Watcher:
        def on_enqueue(self, intent: airlock.Intent) -> None:
            seen.append(airlock.get_current_scope())

        def allows(self, intent: airlock.Intent) -> bool:
            seen.append(airlock.get_current_scope())
            return True

    with airlock.scope(policy=Watcher(), executor=Recorder()) as scope:
        airlock.enqueue(send_email)
    assert seen == [scope, scope]


# -- selection by object, name and dotted path --------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (airlock.DropAll(), airlock.DropAll),
        (airlock.DropAll, airlock.DropAll),
        ("drop_all", airlock.DropAll),
        ("allow_all", airlock.AllowAll),
        ("dedupe", airlock.Dedupe),
        ("log_on_flush", airlock.LogOnFlush),
        ("assert_no_effects", airlock.AssertNoEffects),
        ("airlock.DropAll", airlock.DropAll),
        ("airlock.policies:Dedupe", airlock.Dedupe),
    ],
)
def test_policy_by_object_class_name_or_dotted_path(value: object, expected: type) -> None:
    scope = airlock.scope(policy=value)
    assert type(scope.policy) is expected


def test_a_policy_instance_is_used_as_is() -> None:
    policy = airlock.DropAll()
    assert airlock.scope(policy=policy).policy is policy


def test_a_policy_name_builds_a_new_instance_per_scope() -> None:
    assert airlock.scope(policy="dedupe").policy is not airlock.scope(policy="dedupe").policy


@pytest.mark.parametrize(
    "value", ["sync", "airlock.sync_executor", "airlock.integrations.executors.sync:sync_executor"]
)
def test_executor_by_name_or_dotted_path(value: str) -> None:
    assert airlock.scope(executor=value).executor is airlock.sync_executor


def test_executor_by_dotted_path_to_a_user_function() -> None:
    coresupport.DISPATCHED.clear()
    with airlock.scope(executor="coresupport.recording_executor"):
        airlock.enqueue(send_email, 5)
    assert [i.args for i in coresupport.DISPATCHED] == [(5,)]


@pytest.mark.parametrize(
    "value", [airlock.Scope, coresupport.CustomScope, "default", "coresupport.CustomScope"]
)
def test_scope_class_by_object_name_or_dotted_path(value: object) -> None:
    scope = airlock.scope(_cls=value)
    expected = airlock.Scope if value in (airlock.Scope, "default") else coresupport.CustomScope
    assert type(scope) is expected


@pytest.mark.parametrize(
    ("kwargs", "listed"),
    [
        ({"executor": "no_such_executor"}, "sync"),
        ({"policy": "no_such_policy"}, "drop_all"),
        ({"_cls": "no_such_scope"}, "default"),
    ],
)
def test_an_unknown_name_lists_the_installed_names(kwargs: dict[str, Any], listed: str) -> None:
    with pytest.raises(airlock.UnknownPluginError) as caught:
        airlock.scope(**kwargs)
    assert isinstance(caught.value, airlock.UsageError)
    assert listed in str(caught.value)
    assert next(iter(kwargs.values())) in str(caught.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"executor": "no_such_package.executors.run"},
        {"executor": "airlock.no_such_executor"},
        {"policy": "no_such_package.Policy"},
        {"_cls": "no_such_package.MyScope"},
    ],
)
def test_a_dotted_path_that_does_not_import_is_an_unknown_plugin_error(
    kwargs: dict[str, Any],
) -> None:
    with pytest.raises(airlock.UnknownPluginError, match="Cannot import"):
        airlock.scope(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"executor": 42},
        {"policy": object()},
        {"policy": lambda: None},
        {"policy": len},
        {"_cls": int},
        {"_cls": "coresupport.not_a_scope"},
        {"on_dispatch_error": "sometimes"},
    ],
)
def test_a_wrong_kind_of_object_is_a_usage_error(kwargs: dict[str, Any]) -> None:
    with pytest.raises(airlock.UsageError):
        airlock.scope(**kwargs)


def test_a_policy_missing_allows_is_a_usage_error() -> None:
    class HalfPolicy:
        def on_enqueue(self, intent: airlock.Intent) -> None:
            pass

    with pytest.raises(airlock.UsageError, match="allows"):
        airlock.scope(policy=HalfPolicy())


def test_extra_keyword_arguments_go_to_the_scope_class() -> None:
    class TaggedScope(airlock.Scope):
        def __init__(self, *, tag: str, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.tag = tag

    scope = airlock.scope(_cls=TaggedScope, tag="checkout")
    assert isinstance(scope, TaggedScope)
    assert scope.tag == "checkout"


# -- scoped -------------------------------------------------------------------


def test_scoped_plain_function_runs_each_call_in_its_own_scope(recorder: Recorder) -> None:
    scopes: list[airlock.Scope | None] = []

    @airlock.scoped(executor=recorder)
    def place_order(order_id: int) -> str:
        scopes.append(airlock.get_current_scope())
        airlock.enqueue(send_email, order_id)
        assert len(recorder.intents) == order_id - 1
        return f"order {order_id}"

    assert place_order(1) == "order 1"
    assert place_order(2) == "order 2"
    assert recorder.calls == [("send_email", (1,), {}), ("send_email", (2,), {})]
    assert scopes[0] is not scopes[1]
    assert all(s is not None and s.is_flushed for s in scopes)


def test_scoped_discards_when_the_function_raises(recorder: Recorder) -> None:
    @airlock.scoped(executor=recorder)
    def fail() -> None:
        airlock.enqueue(send_email)
        raise Boom

    with pytest.raises(Boom):
        fail()
    assert recorder.intents == []


def test_bare_scoped_decorator(recorder: Recorder) -> None:
    airlock.configure(executor=recorder)

    @airlock.scoped
    def work(x: int) -> int:
        airlock.enqueue(send_email, x)
        return x * 2

    assert work(21) == 42
    assert recorder.calls == [("send_email", (21,), {})]


def test_scoped_keeps_the_function_metadata() -> None:
    @airlock.scoped()
    def documented() -> None:
        """Docs."""

    assert documented.__name__ == "documented"
    assert documented.__doc__ == "Docs."


def test_scoped_passes_its_options_to_the_scope(recorder: Recorder) -> None:
    @airlock.scoped(policy="drop_all", executor=recorder)
    def dry_run() -> airlock.Scope | None:
        airlock.enqueue(send_email)
        return airlock.get_current_scope()

    scope = dry_run()
    assert scope is not None
    assert isinstance(scope.policy, airlock.DropAll)
    assert recorder.intents == []


def test_scoped_async_function(recorder: Recorder) -> None:
    @airlock.scoped(executor=recorder)
    async def handler(x: int) -> int:
        airlock.enqueue(send_email, x)
        await asyncio.sleep(0)
        airlock.enqueue(send_email, x + 1)
        assert recorder.intents == []
        return x

    @airlock.scoped(executor=recorder)
    async def failing() -> None:
        airlock.enqueue(send_email, "lost")
        await asyncio.sleep(0)
        raise Boom

    async def main() -> int:
        result = await handler(1)
        with pytest.raises(Boom):
            await failing()
        return result

    assert asyncio.iscoroutinefunction(handler)
    assert asyncio.run(main()) == 1
    assert recorder.calls == [("send_email", (1,), {}), ("send_email", (2,), {})]


def test_scoped_concurrent_async_calls_get_separate_scopes(recorder: Recorder) -> None:
    @airlock.scoped(executor=recorder)
    async def handler(x: int) -> list[tuple[Any, ...]]:
        for _ in range(3):
            airlock.enqueue(send_email, x)
            await asyncio.sleep(0)
        scope = airlock.get_current_scope()
        assert scope is not None
        return [i.args for i in scope.intents]

    async def main() -> list[list[tuple[Any, ...]]]:
        return await asyncio.gather(*(handler(n) for n in range(5)))

    assert asyncio.run(main()) == [[(n,)] * 3 for n in range(5)]
    assert len(recorder.intents) == 15


def test_scoped_instance_method_classmethod_and_staticmethod(recorder: Recorder) -> None:
    class Service:
        prefix = "svc"

        @airlock.scoped(executor=recorder)
        def instance(self, x: int) -> str:
            airlock.enqueue(send_email, self.prefix, x)
            return self.prefix

        @classmethod
        @airlock.scoped(executor=recorder)
        def klass(cls, x: int) -> str:
            airlock.enqueue(send_email, cls.prefix, x)
            return cls.__name__

        @staticmethod
        @airlock.scoped(executor=recorder)
        def static(x: int) -> int:
            airlock.enqueue(send_email, "static", x)
            return x

    service = Service()
    assert service.instance(1) == "svc"
    assert Service.klass(2) == "Service"
    assert service.klass(3) == "Service"
    assert Service.static(4) == 4
    assert service.static(5) == 5
    assert [i.args for i in recorder.intents] == [
        ("svc", 1),
        ("svc", 2),
        ("svc", 3),
        ("static", 4),
        ("static", 5),
    ]


def test_scoped_over_classmethod_and_staticmethod_objects(recorder: Recorder) -> None:
    class Service:
        @airlock.scoped(executor=recorder)  # type: ignore[arg-type]
        @classmethod
        def klass(cls, name: str) -> None:
            airlock.enqueue(coresupport.noop, cls.__name__, name)

        @airlock.scoped(executor=recorder)  # type: ignore[arg-type]
        @staticmethod
        def static(name: str) -> None:
            airlock.enqueue(coresupport.noop, name)

    Service.klass("on the class")
    Service().klass("on an instance")
    Service.static("static on the class")
    Service().static("static on an instance")
    assert [i.args for i in recorder.intents] == [
        ("Service", "on the class"),
        ("Service", "on an instance"),
        ("static on the class",),
        ("static on an instance",),
    ]


def test_scoped_on_something_not_callable_is_a_usage_error() -> None:
    with pytest.raises(airlock.UsageError):
        airlock.scoped()(42)  # type: ignore[arg-type]


def test_scoped_nested_calls_are_captured_by_the_caller(recorder: Recorder) -> None:
    @airlock.scoped(executor=recorder)
    def inner() -> None:
        airlock.enqueue(send_email, "inner")

    @airlock.scoped(executor=recorder)
    def outer() -> None:
        inner()
        assert recorder.intents == []
        scope = airlock.get_current_scope()
        assert scope is not None
        assert [i.args for i in scope.captured_intents] == [("inner",)]

    outer()
    assert recorder.calls == [("send_email", ("inner",), {})]


@pytest.mark.parametrize("select", ["object", "dotted path"])
def test_an_executor_class_instead_of_an_instance_is_refused(select: str) -> None:
    value = coresupport.Recorder if select == "object" else "coresupport.Recorder"
    with pytest.raises(airlock.UsageError, match="Recorder"):
        airlock.scope(executor=value)
    with pytest.raises(airlock.UsageError, match="Recorder"):
        airlock.configure(executor=value)
