"""The built-in policies, Dedupe, and what makes any object a policy."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from coresupport import Recorder, raise_after, run_block

import airlock


def send_email(*args: Any, **kwargs: Any) -> None:
    pass


def enrich_from_api(*args: Any, **kwargs: Any) -> None:
    pass


class CeleryLikeTask:
    name = "proj.tasks.enrich_from_api"

    def __call__(self, *args: Any) -> None:
        pass


def test_allow_all_lets_everything_through(recorder: Recorder) -> None:
    with airlock.scope(policy=airlock.AllowAll(), executor=recorder):
        airlock.enqueue(send_email, 1)
        airlock.enqueue(enrich_from_api, 2)
    assert recorder.names == ["send_email", "enrich_from_api"]


def test_drop_all_buffers_for_inspection_and_dispatches_nothing(recorder: Recorder) -> None:
    with airlock.scope(policy=airlock.DropAll(), executor=recorder) as scope:
        airlock.enqueue(send_email, 1)
        airlock.enqueue(enrich_from_api, 2)
    assert [i.name for i in scope.intents] == ["send_email", "enrich_from_api"]
    assert recorder.intents == []
    assert scope.is_flushed


def test_assert_no_effects_raises_policy_violation_and_buffers_nothing() -> None:
    with airlock.scope(policy=airlock.AssertNoEffects()) as scope:
        with pytest.raises(airlock.PolicyViolation, match="send_email") as caught:
            airlock.enqueue(send_email, 1)
        assert scope.intents == []
    assert not isinstance(caught.value, airlock.UsageError)
    assert isinstance(caught.value, airlock.AirlockError)


def test_assert_no_effects_uncaught_discards_the_scope() -> None:
    with pytest.raises(airlock.PolicyViolation), airlock.scope(policy="assert_no_effects") as scope:
        airlock.enqueue(send_email)
    assert scope.is_discarded


def test_block_tasks_drops_the_named_tasks_at_flush(recorder: Recorder) -> None:
    with airlock.scope(policy=airlock.BlockTasks({"enrich_from_api"}), executor=recorder) as scope:
        airlock.enqueue(send_email, 1)
        airlock.enqueue(enrich_from_api, 2)
        airlock.enqueue("proj.tasks.enrich_from_api", 3)
        airlock.enqueue(CeleryLikeTask(), 4)
        airlock.enqueue(send_email, 5)
    assert recorder.calls == [("send_email", (1,), {}), ("send_email", (5,), {})]
    assert len(scope.intents) == 5


def test_block_tasks_accepts_a_single_name(recorder: Recorder) -> None:
    policy = airlock.BlockTasks("enrich_from_api")
    assert policy.names == frozenset({"enrich_from_api"})
    with airlock.scope(policy=policy, executor=recorder):
        airlock.enqueue(enrich_from_api)
        airlock.enqueue(send_email)
    assert recorder.names == ["send_email"]


def test_block_tasks_raise_on_enqueue_refuses_at_the_call_site(recorder: Recorder) -> None:
    policy = airlock.BlockTasks(["enrich_from_api"], raise_on_enqueue=True)
    with airlock.scope(policy=policy, executor=recorder) as scope:
        airlock.enqueue(send_email, 1)
        with pytest.raises(airlock.PolicyViolation, match="enrich_from_api"):
            airlock.enqueue(enrich_from_api, 2)
        airlock.enqueue(send_email, 3)
        assert [i.args for i in scope.intents] == [(1,), (3,)]
    assert recorder.calls == [("send_email", (1,), {}), ("send_email", (3,), {})]


@pytest.mark.parametrize("names", [[1], {"ok", None}, [b"send_email"]])
def test_block_tasks_needs_string_names(names: Any) -> None:
    with pytest.raises(airlock.UsageError, match="strings"):
        airlock.BlockTasks(names)


def test_block_tasks_repr_names_the_tasks() -> None:
    assert "enrich_from_api" in repr(airlock.BlockTasks("enrich_from_api"))


def test_log_on_flush_logs_each_intent_and_allows_it(
    recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="airlock")
    with airlock.scope(policy=airlock.LogOnFlush(), executor=recorder):
        airlock.enqueue(send_email, 42, to="a@example.com")
        assert caplog.records == []
    assert recorder.names == ["send_email"]
    (record,) = caplog.records
    assert record.name == "airlock"
    assert record.levelno == logging.INFO
    assert "send_email(42, to='a@example.com')" in record.getMessage()


def test_log_on_flush_uses_the_given_logger_and_level(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("shop.effects")
    caplog.set_level(logging.DEBUG, logger="shop.effects")
    with airlock.scope(policy=airlock.LogOnFlush(logger, level=logging.DEBUG), executor=Recorder()):
        airlock.enqueue(send_email)
    assert [(r.name, r.levelno) for r in caplog.records] == [("shop.effects", logging.DEBUG)]


def test_log_on_flush_logs_nothing_for_a_discarded_scope(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="airlock")
    with pytest.raises(RuntimeError):
        run_block(
            airlock.scope(policy=airlock.LogOnFlush()), raise_after(RuntimeError(), (send_email,))
        )
    assert caplog.records == []


# -- Dedupe -------------------------------------------------------------------


def test_dedupe_drops_calls_equal_in_task_args_and_kwargs(recorder: Recorder) -> None:
    with airlock.scope(policy=airlock.Dedupe(), executor=recorder):
        airlock.enqueue(send_email, 1, a=1, b=2)
        airlock.enqueue(send_email, 1, b=2, a=1)
        airlock.enqueue(send_email, 2, a=1, b=2)
        airlock.enqueue(send_email, 1, a=1)
        airlock.enqueue(enrich_from_api, 1, a=1, b=2)
        airlock.enqueue(send_email, 1, a=1, b=2)
    assert recorder.calls == [
        ("send_email", (1,), {"a": 1, "b": 2}),
        ("send_email", (2,), {"a": 1, "b": 2}),
        ("send_email", (1,), {"a": 1}),
        ("enrich_from_api", (1,), {"a": 1, "b": 2}),
    ]


def test_dedupe_compares_string_tasks_by_value(recorder: Recorder) -> None:
    with airlock.scope(policy="dedupe", executor=recorder):
        airlock.enqueue("proj.tasks.ping", 1)
        airlock.enqueue("proj.tasks.ping", 1)
        airlock.enqueue("other.ping", 1)
    assert [i.task for i in recorder.intents] == ["proj.tasks.ping", "other.ping"]


def test_dedupe_handles_unhashable_arguments_by_equality(recorder: Recorder) -> None:
    with airlock.scope(policy=airlock.Dedupe(), executor=recorder):
        airlock.enqueue(send_email, ids=[1, 2])
        airlock.enqueue(send_email, ids=[1, 2])
        airlock.enqueue(send_email, ids=[2, 1])
        airlock.enqueue(send_email, {"to": "a"}, ids=[1, 2])
        airlock.enqueue(send_email, {"to": "a"}, ids=[1, 2])
        airlock.enqueue(send_email, [1, 2])
        airlock.enqueue(send_email, (1, 2))
    assert recorder.calls == [
        ("send_email", (), {"ids": [1, 2]}),
        ("send_email", (), {"ids": [2, 1]}),
        ("send_email", ({"to": "a"},), {"ids": [1, 2]}),
        ("send_email", ([1, 2],), {}),
        ("send_email", ((1, 2),), {}),
    ]


def test_dedupe_collapses_a_ten_thousand_enqueue_loop(recorder: Recorder) -> None:
    with airlock.scope(policy=airlock.Dedupe(), executor=recorder) as scope:
        for order_id in range(10_000):
            airlock.enqueue(send_email, order_id % 3)
            airlock.enqueue(enrich_from_api, user_id=7, fields=["age", "income"])
    assert len(scope.intents) == 20_000
    assert recorder.calls == [
        ("send_email", (0,), {}),
        ("enrich_from_api", (), {"user_id": 7, "fields": ["age", "income"]}),
        ("send_email", (1,), {}),
        ("send_email", (2,), {}),
    ]


def test_dedupe_by_name_starts_fresh_in_every_scope(recorder: Recorder) -> None:
    for _ in range(2):
        with airlock.scope(policy="dedupe", executor=recorder):
            airlock.enqueue(send_email, 1)
            airlock.enqueue(send_email, 1)
    assert len(recorder.intents) == 2


def test_dedupe_as_a_layer_only_dedupes_inside_the_layer(recorder: Recorder) -> None:
    with airlock.scope(executor=recorder):
        airlock.enqueue(send_email, 1)
        with airlock.policy(airlock.Dedupe()):
            for _ in range(5):
                airlock.enqueue(send_email, 1)
        airlock.enqueue(send_email, 1)
    assert len(recorder.intents) == 3


def test_dedupe_reentrant_task_is_dispatched_once(recorder: Recorder) -> None:
    class User:
        def save(self) -> None:
            airlock.enqueue(enrich_from_api, 1)

    with airlock.scope(policy="dedupe", executor=recorder):
        user = User()
        user.save()
        user.save()
        user.save()
    assert recorder.calls == [("enrich_from_api", (1,), {})]


# -- what a policy is ---------------------------------------------------------


class OnlyEven:
    def __init__(self) -> None:
        self.enqueued: list[airlock.Intent] = []

    def on_enqueue(self, intent: airlock.Intent) -> None:
        self.enqueued.append(intent)

    def allows(self, intent: airlock.Intent) -> bool:
        return intent.args[0] % 2 == 0


def test_any_object_with_on_enqueue_and_allows_is_a_policy(recorder: Recorder) -> None:
    policy = OnlyEven()
    assert isinstance(policy, airlock.Policy)
    with airlock.scope(policy=policy, executor=recorder) as scope:
        for n in range(5):
            airlock.enqueue(send_email, n)
    assert policy.enqueued == scope.intents
    assert [i.args for i in recorder.intents] == [(0,), (2,), (4,)]


@pytest.mark.parametrize("base", [airlock.AllowAll, airlock.DropAll, airlock.Dedupe])
def test_a_builtin_subclass_that_overrides_on_enqueue_is_called(base: type) -> None:
    seen: list[airlock.Intent] = []

    class Watching(base):  # type: ignore[valid-type,misc]
        def on_enqueue(self, intent: airlock.Intent) -> None:
            seen.append(intent)

    with airlock.scope(policy=Watching(), executor=Recorder()) as scope:
        airlock.enqueue(send_email, 1)
    assert seen == scope.intents


def test_a_subclass_of_allow_all_that_overrides_allows_is_asked(recorder: Recorder) -> None:
    class NoEmail(airlock.AllowAll):
        def allows(self, intent: airlock.Intent) -> bool:
            return intent.name != "send_email"

    with airlock.scope(policy=NoEmail(), executor=recorder):
        airlock.enqueue(send_email)
        airlock.enqueue(enrich_from_api)
    assert recorder.names == ["enrich_from_api"]


def test_the_policy_layer_rejects_a_non_policy() -> None:
    with pytest.raises(airlock.UsageError, match="on_enqueue"):
        airlock.policy(object())  # type: ignore[arg-type]


def test_builtin_policies_have_readable_reprs() -> None:
    for policy in (airlock.AllowAll(), airlock.DropAll(), airlock.AssertNoEffects()):
        assert type(policy).__name__ in repr(policy)
    assert "Dedupe" in repr(airlock.Dedupe())
    assert "LogOnFlush" in repr(airlock.LogOnFlush())


def test_one_dedupe_instance_serves_many_scopes_one_flush_at_a_time(recorder: Recorder) -> None:
    shared = airlock.Dedupe()
    airlock.configure(policy=shared)
    for _ in range(3):
        with airlock.scope(executor=recorder) as scope:
            airlock.enqueue(send_email, 1)
            airlock.enqueue(send_email, 1)
        assert scope.policy is shared
    assert len(recorder.intents) == 3


def test_block_tasks_given_full_dotted_names_never_silently_blocks_nothing(
    recorder: Recorder,
) -> None:
    try:
        policy = airlock.BlockTasks({"proj.tasks.enrich_from_api"})
    except airlock.UsageError:
        return  # refusing dotted names up front is as good as matching them
    with airlock.scope(policy=policy, executor=recorder):
        airlock.enqueue(CeleryLikeTask(), 1)
        airlock.enqueue("proj.tasks.enrich_from_api", 2)
        airlock.enqueue(send_email, 3)
    assert recorder.names == ["send_email"]
