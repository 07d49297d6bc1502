"""Routing by task kind: with no executor configured, each intent goes to its kind's executor."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from coresupport import Recorder, run_block, run_python, subprocess_env

import airlock


class QueueTask:
    """A framework's task object: callable, and of a kind a plugin claims."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, n: int) -> None:
        raise AssertionError("a queue task must never run in the web process")


class Batching(Recorder):
    """An executor that batches: it records each batch it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []

    def dispatch_many(self, intents: Sequence[airlock.Intent]) -> None:
        self.batches.append([f"{i.name}({i.args[0]})" for i in intents])
        self.intents.extend(intents)


QUEUE = Batching()
PATH = f"{QueueTask.__module__}.{QueueTask.__qualname__}"


class QueuePlugin:
    @airlock.hookimpl
    def airlock_register_executors(self) -> dict[str, Any]:
        return {"core-test-queue": QUEUE}

    @airlock.hookimpl
    def airlock_register_task_kinds(self) -> dict[str, str]:
        return {PATH: "core-test-queue"}


ran: list[int] = []


def local(n: int) -> None:
    ran.append(n)


@pytest.fixture
def queue_plugin(register_plugin: Any) -> Batching:
    QUEUE.intents.clear()
    QUEUE.batches.clear()
    ran.clear()
    register_plugin(QueuePlugin(), "core-test-queue-plugin")
    return QUEUE


def test_a_claimed_kind_goes_to_its_executor_and_plain_callables_run_here(
    queue_plugin: Batching,
) -> None:
    send = QueueTask("send")
    with airlock.scope():
        airlock.enqueue(local, 1)
        airlock.enqueue(send, 2)
        airlock.enqueue(local, 3)
        airlock.enqueue(send, 4)
    assert ran == [1, 3]
    assert queue_plugin.batches == [["send(2)", "send(4)"]]  # one batch for its executor


def test_a_scope_of_claimed_tasks_only_never_runs_anything_here(queue_plugin: Batching) -> None:
    with airlock.scope():
        airlock.enqueue(QueueTask("a"), 1)
    assert queue_plugin.batches == [["a(1)"]]
    assert ran == []


def test_an_explicit_executor_still_wins(queue_plugin: Batching) -> None:
    recorder = Recorder()
    with airlock.scope(executor=recorder):
        airlock.enqueue(QueueTask("a"), 1)
    assert recorder.names == ["a"]
    airlock.configure(executor="sync")
    with airlock.scope():
        airlock.enqueue(local, 5)
    assert ran == [5]
    assert queue_plugin.batches == []


def test_the_router_names_where_each_task_goes(queue_plugin: Batching) -> None:
    assert airlock.plugins.executor_name_for(QueueTask("a")) == "core-test-queue"
    assert airlock.plugins.executor_name_for(local) == "sync"
    assert airlock.plugins.task_kinds()[PATH] == "core-test-queue"


class RivalPlugin:
    @airlock.hookimpl
    def airlock_register_task_kinds(self) -> dict[str, str]:
        return {PATH: "sync"}


def test_a_kind_two_plugins_claim_is_an_error_naming_both(
    queue_plugin: Batching, register_plugin: Any
) -> None:
    register_plugin(RivalPlugin(), "core-test-rival")

    def body() -> None:
        airlock.enqueue(local, 1)
        airlock.enqueue(QueueTask("a"), 2)

    with pytest.raises(airlock.DispatchError) as caught:
        run_block(airlock.scope(), body)
    ((intent, error),) = caught.value.failed
    assert intent.args == (2,)
    assert isinstance(error, airlock.PluginConflictError)
    assert "core-test-queue-plugin" in str(error)
    assert "core-test-rival" in str(error)
    assert [i.args for i in caught.value.dispatched] == [(1,)]


def call_locally(self: object, n: int) -> None:
    local(n)


def fake_kind(module: str, qualname: str) -> type:
    """A class that says it is a framework's task class, without the framework."""
    namespace = {"__module__": module, "__qualname__": qualname, "__call__": call_locally}
    return type(qualname, (), namespace)


@pytest.mark.usefixtures("core_plugins_only")
def test_a_known_framework_task_with_no_plugin_to_route_it_names_the_distribution() -> None:
    ran.clear()
    celery_like = fake_kind("celery.app.task", "Task")()
    with pytest.raises(airlock.DispatchError) as caught, airlock.scope():
        airlock.enqueue(celery_like, 1)
    ((_, error),) = caught.value.failed
    assert isinstance(error, airlock.UsageError)
    assert "pip install airlock-celery" in str(error)
    assert "inside this process" in str(error)
    assert ran == []


def test_check_shows_the_routing_of_installed_plugins() -> None:
    result = run_python("-m", "airlock", "check", env=subprocess_env())
    assert result.returncode == 0, result.stderr
    assert "routing by task kind" in result.stdout
    assert "any other callable -> sync (in-process)" in result.stdout
