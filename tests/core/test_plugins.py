"""The plugin registry in-process: names, hand registration, conflicts, lifecycle hooks."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import coresupport
import pytest
from coresupport import Recorder, raise_after, run_block

import airlock

Register = Callable[[object, str], str]


def task(*args: Any) -> None:
    pass


class Offers:
    """A plugin object offering the given executors, policies and scopes."""

    def __init__(
        self,
        executors: Mapping[str, Any] | None = None,
        policies: Mapping[str, Any] | None = None,
        scopes: Mapping[str, Any] | None = None,
    ) -> None:
        self.executors = executors or {}
        self.policies = policies or {}
        self.scopes = scopes or {}

    @airlock.hookimpl
    def airlock_register_executors(self) -> Mapping[str, Any]:
        return self.executors

    @airlock.hookimpl
    def airlock_register_policies(self) -> Mapping[str, Any]:
        return self.policies

    @airlock.hookimpl
    def airlock_register_scopes(self) -> Mapping[str, Any]:
        return self.scopes


def test_markers_belong_to_the_airlock_project() -> None:
    assert airlock.hookimpl.project_name == "airlock"
    assert airlock.hookspec.project_name == "airlock"


def test_core_registers_its_builtins_through_the_hooks() -> None:
    assert airlock.plugins.names("executor")["sync"] == "core"
    policies = airlock.plugins.names("policy")
    for name in ("allow_all", "drop_all", "assert_no_effects", "log_on_flush", "dedupe"):
        assert policies[name] == "core"
    assert airlock.plugins.names("scope")["default"] == "core"
    assert airlock.plugins.lookup("executor", "sync") is airlock.sync_executor
    assert airlock.plugins.lookup("scope", "default") is airlock.Scope
    assert airlock.plugins.lookup("policy", "dedupe") is airlock.Dedupe


def test_core_builtins_with_autoload_disabled(core_plugins_only: None) -> None:
    assert airlock.plugins.names("executor") == {"auto": "core", "sync": "core"}
    assert airlock.plugins.names("scope") == {"default": "core"}
    assert airlock.plugins.distribution("core") == "airlock-core"
    assert type(airlock.scope(policy="drop_all").policy) is airlock.DropAll


def test_a_registered_executor_is_selected_by_name(register: Register) -> None:
    recorder = Recorder()
    assert register(Offers(executors={"core-test-rec": recorder}), "core-test") == "core-test"
    with airlock.scope(executor="core-test-rec"):
        airlock.enqueue(task, 1)
    assert [i.args for i in recorder.intents] == [(1,)]
    assert airlock.plugins.names("executor")["core-test-rec"] == "core-test"
    airlock.configure(executor="core-test-rec")
    assert airlock.get_configuration()["executor"] is recorder


def test_an_unregistered_name_is_unknown_again(register: Register) -> None:
    register(Offers(executors={"core-test-rec": Recorder()}), "core-test")
    airlock.scope(executor="core-test-rec")
    airlock.plugins.unregister("core-test")
    with pytest.raises(airlock.UnknownPluginError):
        airlock.scope(executor="core-test-rec")


def test_unregistering_an_unknown_plugin_is_an_error() -> None:
    with pytest.raises(airlock.UnknownPluginError):
        airlock.plugins.unregister("core-test-never-registered")


def test_a_registered_policy_factory_is_called_per_scope(register: Register) -> None:
    made: list[airlock.DropAll] = []

    def factory() -> airlock.DropAll:
        made.append(airlock.DropAll())
        return made[-1]

    register(Offers(policies={"core-test-drop": factory}), "core-test")
    first, second = airlock.scope(policy="core-test-drop"), airlock.scope(policy="core-test-drop")
    assert [first.policy, second.policy] == made


def test_a_registered_scope_class_is_selected_by_name(register: Register) -> None:
    class AuditScope(airlock.Scope):
        pass

    register(Offers(scopes={"core-test-audit": AuditScope}), "core-test")
    assert type(airlock.scope(_cls="core-test-audit")) is AuditScope
    airlock.configure(scope_cls="core-test-audit")
    with airlock.scope() as scope:
        pass
    assert type(scope) is AuditScope


def test_unknown_name_lists_installed_names_including_registered_ones(register: Register) -> None:
    register(Offers(executors={"core-test-rec": Recorder()}), "core-test")
    with pytest.raises(airlock.UnknownPluginError) as caught:
        airlock.scope(executor="core-test-missing")
    message = str(caught.value)
    assert "core-test-missing" in message
    assert "sync" in message
    assert "core-test-rec" in message


def test_unknown_name_suggests_a_close_match() -> None:
    with pytest.raises(airlock.UnknownPluginError, match="Did you mean 'sync'"):
        airlock.scope(executor="synk")


def test_unknown_name_of_a_known_provider_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(airlock.registry.PROVIDERS, "core-test-broker", "airlock-core-test-broker")
    with pytest.raises(airlock.UnknownPluginError, match="pip install airlock-core-test-broker"):
        airlock.scope(executor="core-test-broker")


@pytest.mark.parametrize(
    ("name", "distribution"),
    [
        ("celery", "airlock-celery"),
        ("rq", "airlock-rq"),
        ("dramatiq", "airlock-dramatiq"),
        ("django_tasks", "airlock-django"),
    ],
)
def test_sibling_executor_names_hint_at_their_distribution(
    core_plugins_only: None, name: str, distribution: str
) -> None:
    with pytest.raises(airlock.UnknownPluginError, match=f"pip install {distribution}"):
        airlock.scope(executor=name)


def test_the_same_name_from_two_plugins_is_a_conflict_naming_both(register: Register) -> None:
    register(Offers(executors={"core-test-dup": Recorder()}), "core-test-one")
    register(Offers(executors={"core-test-dup": Recorder()}), "core-test-two")
    with pytest.raises(airlock.PluginConflictError) as caught:
        airlock.scope(executor="core-test-dup")
    message = str(caught.value)
    assert "core-test-one" in message
    assert "core-test-two" in message
    assert "registered by hand" in message
    assert isinstance(caught.value, airlock.UsageError)
    assert airlock.scope(executor="sync").executor is airlock.sync_executor


def test_the_same_object_under_the_same_name_twice_is_no_conflict(register: Register) -> None:
    shared = Recorder()
    register(Offers(executors={"core-test-dup": shared}), "core-test-one")
    register(Offers(executors={"core-test-dup": shared}), "core-test-two")
    assert airlock.scope(executor="core-test-dup").executor is shared


def test_a_registry_hook_returning_no_mapping_is_a_usage_error(register: Register) -> None:
    register(Offers(executors=["not", "a", "mapping"]), "core-test-bad")  # type: ignore[arg-type]
    with pytest.raises(airlock.UsageError, match="core-test-bad"):
        airlock.scope(executor="sync")
    airlock.plugins.unregister("core-test-bad")
    assert airlock.scope(executor="sync").executor is airlock.sync_executor


def test_describe_reports_what_each_plugin_registers(register: Register) -> None:
    register(Offers(executors={"core-test-rec": Recorder()}), "core-test")
    infos = {info.name: info for info in airlock.plugins.describe()}
    assert infos["core"].distribution == "airlock-core"
    assert infos["core"].registers["executor"] == ["auto", "sync"]
    assert infos["core-test"].distribution is None
    assert infos["core-test"].registers == {
        "executor": ["core-test-rec"],
        "policy": [],
        "scope": [],
        "task kind": [],
    }
    assert "airlock_register_executors" in infos["core-test"].hooks


# -- lifecycle hooks ----------------------------------------------------------


class Lifecycle:
    """Implements every lifecycle hook and records the keyword arguments."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    @airlock.hookimpl
    def airlock_intent_enqueued(self, scope: airlock.Scope, intent: airlock.Intent) -> None:
        self.calls.append(("enqueued", {"scope": scope, "intent": intent}))

    @airlock.hookimpl
    def airlock_intent_dispatched(self, intent: airlock.Intent, executor: Any) -> None:
        self.calls.append(("dispatched", {"intent": intent, "executor": executor}))

    @airlock.hookimpl
    def airlock_intent_dropped(self, intent: airlock.Intent, policy: Any) -> None:
        self.calls.append(("dropped", {"intent": intent, "policy": policy}))

    @airlock.hookimpl
    def airlock_dispatch_failed(self, intent: airlock.Intent, error: BaseException) -> None:
        self.calls.append(("failed", {"intent": intent, "error": error}))

    @airlock.hookimpl
    def airlock_scope_discarded(self, scope: airlock.Scope, intents: list[airlock.Intent]) -> None:
        self.calls.append(("discarded", {"scope": scope, "intents": list(intents)}))


class Subset:
    """Implements hooks taking only some of the arguments the specification offers."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.errors: list[BaseException] = []

    @airlock.hookimpl
    def airlock_intent_enqueued(self, intent: airlock.Intent) -> None:
        self.names.append(intent.name)

    @airlock.hookimpl
    def airlock_dispatch_failed(self, error: BaseException) -> None:
        self.errors.append(error)

    @airlock.hookimpl
    def airlock_scope_discarded(self) -> None:
        self.names.append("<discarded>")


class Boom(Exception):
    pass


def test_hooks_registered_inside_an_open_scope_see_what_follows(register: Register) -> None:
    ran: list[int] = []
    hooks = Lifecycle()
    with airlock.scope() as scope:
        airlock.enqueue(ran.append, 1)
        register(hooks, "core-test-late-hooks")
        airlock.enqueue(ran.append, 2)
    first, second = scope.intents
    assert ran == [1, 2]
    assert hooks.calls == [
        ("enqueued", {"scope": scope, "intent": second}),
        ("dispatched", {"intent": first, "executor": airlock.get_configuration()["executor"]}),
        ("dispatched", {"intent": second, "executor": airlock.get_configuration()["executor"]}),
    ]


def test_lifecycle_hooks_fire_with_keyword_arguments(register: Register) -> None:
    hooks = Lifecycle()
    register(hooks, "core-test-lifecycle")
    recorder = Recorder()
    layer = airlock.DropAll()

    with airlock.scope(policy=airlock.BlockTasks("blocked"), executor=recorder) as first:
        airlock.enqueue(task, 1)
        airlock.enqueue("x.blocked", 2)
        with airlock.policy(layer):
            airlock.enqueue(task, 3)
    sent, blocked, layered = first.intents
    assert hooks.calls == [
        ("enqueued", {"scope": first, "intent": sent}),
        ("enqueued", {"scope": first, "intent": blocked}),
        ("enqueued", {"scope": first, "intent": layered}),
        ("dropped", {"intent": blocked, "policy": first.policy}),
        ("dropped", {"intent": layered, "policy": layer}),
        ("dispatched", {"intent": sent, "executor": recorder}),
    ]

    hooks.calls.clear()
    failure = Boom("down")

    def failing(intent: airlock.Intent) -> None:
        raise failure

    with pytest.raises(airlock.DispatchError), airlock.scope(executor=failing) as second:
        airlock.enqueue(task, 4)
    (lost,) = second.intents
    assert hooks.calls == [
        ("enqueued", {"scope": second, "intent": lost}),
        ("failed", {"intent": lost, "error": failure}),
    ]

    hooks.calls.clear()
    third = airlock.scope()
    with pytest.raises(Boom):
        run_block(third, raise_after(Boom(), (task, 5)))
    discarded = next(kwargs["intent"] for name, kwargs in hooks.calls if name == "enqueued")
    assert discarded.args == (5,)
    assert hooks.calls == [
        ("enqueued", {"scope": third, "intent": discarded}),
        ("discarded", {"scope": third, "intents": [discarded]}),
    ]


def test_a_hook_implementation_may_take_a_subset_of_the_arguments(register: Register) -> None:
    hooks = Subset()
    register(hooks, "core-test-subset")
    with pytest.raises(airlock.DispatchError), airlock.scope(executor="sync"):
        airlock.enqueue("no_such_module_for_airlock.send_email")
    with pytest.raises(Boom):
        run_block(airlock.scope(), raise_after(Boom(), (task,)))
    assert hooks.names == ["send_email", "task", "<discarded>"]
    assert [type(e) for e in hooks.errors] == [airlock.UnknownPluginError]


def test_the_dropped_hook_fires_for_captured_intents_dropped_by_the_outer_policy(
    register: Register,
) -> None:
    hooks = Lifecycle()
    register(hooks, "core-test-lifecycle")
    with airlock.scope(policy="drop_all") as outer, airlock.scope():
        airlock.enqueue(task, 1)
    dropped = [kwargs for name, kwargs in hooks.calls if name == "dropped"]
    assert dropped == [{"intent": outer.intents[0], "policy": outer.policy}]


def test_unimplemented_lifecycle_hooks_are_not_called_at_all(
    core_plugins_only: None, register: Register
) -> None:
    lifecycle = airlock.lifecycle.lifecycle
    slots = ("enqueued", "dispatched", "dropped", "failed", "discarded")
    assert {slot: getattr(lifecycle, slot) for slot in slots} == dict.fromkeys(slots)

    class OnlyDiscarded:
        @airlock.hookimpl
        def airlock_scope_discarded(self) -> None:
            pass

    register(OnlyDiscarded(), "core-test-only-discarded")
    assert lifecycle.discarded is not None
    assert [slot for slot in slots if getattr(lifecycle, slot) is not None] == ["discarded"]
    airlock.plugins.unregister("core-test-only-discarded")
    assert lifecycle.discarded is None


@pytest.fixture
def register(register_plugin: Register) -> Register:
    return register_plugin


def test_an_enqueue_whose_hook_raises_buffers_nothing(register: Register) -> None:
    class Quota:
        @airlock.hookimpl
        def airlock_intent_enqueued(self, intent: airlock.Intent) -> None:
            if intent.args == ("over quota",):
                raise airlock.PolicyViolation("quota exceeded")

    register(Quota(), "core-test-quota")
    recorder = Recorder()
    with airlock.scope(executor=recorder) as scope:
        airlock.enqueue(task, "fine")
        with pytest.raises(airlock.PolicyViolation):
            airlock.enqueue(task, "over quota")
        assert [i.args for i in scope.intents] == [("fine",)]
    assert [i.args for i in recorder.intents] == [("fine",)]


@pytest.mark.parametrize(
    ("kind", "offered", "select"),
    [
        ("executors", 42, {"executor": "core-test-bad"}),
        ("policies", 42, {"policy": "core-test-bad"}),
        ("policies", lambda: None, {"policy": "core-test-bad"}),
        ("scopes", dict, {"_cls": "core-test-bad"}),
    ],
)
def test_a_registered_object_of_the_wrong_kind_is_a_usage_error(
    register: Register, kind: str, offered: object, select: dict[str, str]
) -> None:
    register(Offers(**{kind: {"core-test-bad": offered}}), "core-test")
    with pytest.raises(airlock.UsageError, match="core-test-bad"):
        airlock.scope(**select)


@pytest.mark.parametrize(
    ("value", "disabled"),
    [("1", True), ("true", True), ("yes", True), ("0", False), ("false", False), ("", False)],
)
def test_the_autoload_switch_values(
    monkeypatch: pytest.MonkeyPatch, value: str, disabled: bool
) -> None:
    monkeypatch.setenv("AIRLOCK_DISABLE_PLUGIN_AUTOLOAD", value)
    assert airlock.plugins.autoload_disabled() is disabled


def test_a_lazy_reference_is_imported_only_when_its_name_is_looked_up(
    register_plugin: Callable[[object, str], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "core_lazy_executor.py").write_text(
        "ran = []\n\ndef executor(intent):\n    ran.append(intent.args)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    class LazyPlugin:
        @airlock.hookimpl
        def airlock_register_executors(self) -> dict[str, str]:
            return {"core-lazy": "core_lazy_executor:executor"}

    register_plugin(LazyPlugin(), "core-lazy-plugin")
    assert airlock.plugins.names("executor")["core-lazy"] == "core-lazy-plugin"
    assert "core_lazy_executor" not in sys.modules
    try:
        with airlock.scope(executor="core-lazy"):
            airlock.enqueue(coresupport.noop, 1)
        assert sys.modules["core_lazy_executor"].ran == [(1,)]
    finally:
        sys.modules.pop("core_lazy_executor", None)


def test_a_lazy_reference_that_does_not_import_names_the_plugin(
    register_plugin: Callable[[object, str], str],
) -> None:
    class BrokenLazyPlugin:
        @airlock.hookimpl
        def airlock_register_executors(self) -> dict[str, str]:
            return {"core-lazy-broken": "core_no_such_module:executor"}

    register_plugin(BrokenLazyPlugin(), "core-lazy-broken-plugin")
    with pytest.raises(airlock.UnknownPluginError, match="core-lazy-broken-plugin"):
        airlock.scope(executor="core-lazy-broken")
