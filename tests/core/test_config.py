"""configure / get_configuration / reset_configuration and AIRLOCK_EXECUTOR."""

from __future__ import annotations

from typing import Any

import coresupport
import pytest
from coresupport import Recorder

import airlock


def task(*args: Any) -> None:
    pass


def test_the_defaults() -> None:
    config = airlock.get_configuration()
    assert config["executor"] is airlock.plugins.lookup("executor", "auto")
    assert type(config["policy"]) is airlock.AllowAll
    assert config["scope_cls"] is airlock.Scope
    assert config["scope_kwargs"] == {}


def test_configured_executor_is_used_by_new_scopes(recorder: Recorder) -> None:
    airlock.configure(executor=recorder)
    assert airlock.get_configuration()["executor"] is recorder
    with airlock.scope():
        airlock.enqueue(task, 1)
    assert args_of(recorder) == [1]


def args_of(recorder: Recorder) -> list[Any]:
    return [i.args[0] for i in recorder.intents]


def test_explicit_arguments_to_scope_win(recorder: Recorder) -> None:
    configured = Recorder()
    airlock.configure(executor=configured, policy="drop_all", scope_cls=coresupport.CustomScope)
    with airlock.scope(executor=recorder, policy=airlock.AllowAll(), _cls=airlock.Scope) as s:
        airlock.enqueue(task, 1)
    assert type(s) is airlock.Scope
    assert args_of(recorder) == [1]
    assert configured.intents == []


@pytest.mark.parametrize("value", ["sync", "airlock.sync_executor", airlock.sync_executor])
def test_executor_by_object_name_or_dotted_path(value: object) -> None:
    airlock.configure(executor=value)
    assert airlock.get_configuration()["executor"] is airlock.sync_executor


def test_a_policy_name_or_class_gives_each_scope_a_fresh_instance() -> None:
    airlock.configure(policy="dedupe")
    first, second = airlock.scope(), airlock.scope()
    assert type(first.policy) is airlock.Dedupe
    assert first.policy is not second.policy
    airlock.configure(policy=airlock.DropAll)
    assert type(airlock.scope().policy) is airlock.DropAll
    assert type(airlock.get_configuration()["policy"]) is airlock.DropAll


def test_a_policy_instance_is_shared() -> None:
    policy = airlock.DropAll()
    airlock.configure(policy=policy)
    assert airlock.scope().policy is policy
    assert airlock.get_configuration()["policy"] is policy


@pytest.mark.parametrize("value", [coresupport.CustomScope, "coresupport.CustomScope"])
def test_scope_class_by_object_or_dotted_path(value: object) -> None:
    airlock.configure(scope_cls=value)
    assert airlock.get_configuration()["scope_cls"] is coresupport.CustomScope
    with airlock.scope() as scope:
        pass
    assert type(scope) is coresupport.CustomScope


def test_scoped_follows_the_configuration_at_call_time(recorder: Recorder) -> None:
    @airlock.scoped
    def work() -> None:
        airlock.enqueue(task, 1)

    airlock.configure(executor=recorder)
    work()
    assert args_of(recorder) == [1]


def test_scope_kwargs_apply_to_scope_unless_overridden() -> None:
    airlock.configure(scope_kwargs={"on_dispatch_error": "continue"})
    assert airlock.get_configuration()["scope_kwargs"] == {"on_dispatch_error": "continue"}

    def fail(intent: airlock.Intent) -> None:
        raise RuntimeError

    def flush_two(**scope_kwargs: Any) -> None:
        with airlock.scope(executor=fail, **scope_kwargs):
            airlock.enqueue(task, 1)
            airlock.enqueue(task, 2)

    with pytest.raises(airlock.DispatchError) as caught:
        flush_two()
    assert len(caught.value.failed) == 2
    with pytest.raises(airlock.DispatchError) as caught:
        flush_two(on_dispatch_error="stop")
    assert len(caught.value.failed) == 1


def test_none_leaves_a_setting_as_it_is(recorder: Recorder) -> None:
    airlock.configure(executor=recorder)
    airlock.configure(policy="drop_all")
    config = airlock.get_configuration()
    assert config["executor"] is recorder
    assert type(config["policy"]) is airlock.DropAll


def test_reset_configuration_restores_the_defaults(recorder: Recorder) -> None:
    airlock.configure(executor=recorder, policy="drop_all", scope_cls=coresupport.CustomScope)
    airlock.reset_configuration()
    test_the_defaults()


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"executor": "no_such_executor"}, airlock.UnknownPluginError),
        ({"executor": "no_such_package.executor"}, airlock.UnknownPluginError),
        ({"executor": 42}, airlock.UsageError),
        ({"policy": "no_such_policy"}, airlock.UnknownPluginError),
        ({"policy": object()}, airlock.UsageError),
        ({"scope_cls": "no_such_scope"}, airlock.UnknownPluginError),
        ({"scope_cls": int}, airlock.UsageError),
        ({"scope_kwargs": ["on_dispatch_error"]}, airlock.UsageError),
        ({"policy": "drop_all", "executor": "no_such_executor"}, airlock.UnknownPluginError),
        ({"executor": "sync", "scope_cls": "no_such_scope"}, airlock.UnknownPluginError),
    ],
)
def test_a_failed_configure_changes_nothing(
    recorder: Recorder, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    airlock.configure(executor=recorder)
    before = airlock.get_configuration()
    with pytest.raises(error):
        airlock.configure(**kwargs)
    after = airlock.get_configuration()
    assert after["executor"] is recorder
    assert type(after["policy"]) is type(before["policy"])
    assert after["scope_cls"] is before["scope_cls"]
    assert after["scope_kwargs"] == before["scope_kwargs"]
    with airlock.scope():
        airlock.enqueue(task, 1)
    assert args_of(recorder) == [1]


def test_configure_rejects_a_policy_that_cannot_be_built() -> None:
    with pytest.raises(airlock.UsageError, match="BlockTasks"):
        airlock.configure(policy=airlock.BlockTasks)
    assert type(airlock.get_configuration()["policy"]) is airlock.AllowAll


# -- AIRLOCK_EXECUTOR ---------------------------------------------------------


def test_the_environment_variable_selects_the_executor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRLOCK_EXECUTOR", "coresupport.recording_executor")
    coresupport.DISPATCHED.clear()
    assert airlock.get_configuration()["executor"] is coresupport.recording_executor
    with airlock.scope():
        airlock.enqueue(task, 1)
    assert [i.args for i in coresupport.DISPATCHED] == [(1,)]


def test_the_environment_variable_takes_a_registered_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRLOCK_EXECUTOR", "sync")
    assert airlock.get_configuration()["executor"] is airlock.sync_executor


def test_configure_wins_over_the_environment_variable(
    monkeypatch: pytest.MonkeyPatch, recorder: Recorder
) -> None:
    monkeypatch.setenv("AIRLOCK_EXECUTOR", "coresupport.recording_executor")
    airlock.configure(executor=recorder)
    assert airlock.get_configuration()["executor"] is recorder


def test_reset_configuration_reads_the_environment_variable_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert airlock.get_configuration()["executor"] is airlock.plugins.lookup("executor", "auto")
    monkeypatch.setenv("AIRLOCK_EXECUTOR", "coresupport.recording_executor")
    airlock.reset_configuration()
    assert airlock.get_configuration()["executor"] is coresupport.recording_executor


def test_a_bad_environment_variable_fails_scopes_and_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIRLOCK_EXECUTOR", "nonexistent")
    with pytest.raises(airlock.UnknownPluginError) as caught:
        airlock.scope()
    assert "nonexistent" in str(caught.value)
    assert "AIRLOCK_EXECUTOR" in str(caught.value)


def test_configure_repairs_a_bad_environment_variable(
    monkeypatch: pytest.MonkeyPatch, recorder: Recorder
) -> None:
    monkeypatch.setenv("AIRLOCK_EXECUTOR", "nonexistent")
    airlock.configure(executor=recorder)
    with airlock.scope():
        airlock.enqueue(task, 1)
    assert args_of(recorder) == [1]


def test_configure_rejects_scope_kwargs_the_scope_class_does_not_take() -> None:
    with pytest.raises(airlock.UsageError, match="on_dispatch_eror"):
        airlock.configure(scope_kwargs={"on_dispatch_eror": "continue"})
    assert airlock.get_configuration()["scope_kwargs"] == {}
    with airlock.scope():
        pass


class TaggedScope(airlock.Scope):
    def __init__(self, *, tag: str = "untagged", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tag = tag


def test_scope_kwargs_go_to_the_configured_scope_class() -> None:
    airlock.configure(scope_cls=TaggedScope, scope_kwargs={"tag": "checkout"})
    scope = airlock.scope()
    assert isinstance(scope, TaggedScope)
    assert scope.tag == "checkout"
    assert airlock.scope(tag="explicit").tag == "explicit"  # type: ignore[attr-defined]


def test_configured_scope_kwargs_do_not_apply_to_an_explicit_scope_class() -> None:
    airlock.configure(scope_cls=TaggedScope, scope_kwargs={"tag": "checkout"})
    scope = airlock.scope(_cls=TaggedScope)
    assert scope.tag == "untagged"  # type: ignore[attr-defined]
