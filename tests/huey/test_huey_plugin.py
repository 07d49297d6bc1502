"""The ``huey`` plugin: found by entry point, routes Huey tasks, finds them by name."""

from __future__ import annotations

import importlib
import subprocess
import sys
from typing import Any

import pytest
from huey import MemoryHuey
from huey.api import TaskWrapper

import airlock
import airlock_huey

memory = MemoryHuey("airlock_plugin_tests")


@memory.task()
def send_email(user_id: int, *, urgent: bool = False) -> None:
    """A Huey task of this module."""


@memory.task(name="welcome")
def send_welcome(user_id: int) -> None:
    """A Huey task with a name of its own."""


@memory.task(context=True)
def with_context(user_id: int, task: Any = None) -> None:
    """A task Huey hands its own ``task`` to."""


def plain(user_id: int) -> None:
    """Not a Huey task."""


def test_executor_by_name_and_compatibility_path() -> None:
    from airlock.integrations.executors.huey import huey_executor

    assert huey_executor is airlock_huey.huey_executor
    with airlock.scope(executor="huey") as scope:
        pass
    assert scope.executor is airlock_huey.huey_executor
    airlock.configure(executor="airlock.integrations.executors.huey.huey_executor")
    assert airlock.get_configuration()["executor"] is airlock_huey.huey_executor


def test_plugins_command_lists_the_huey_plugin(listed_plugins: dict[str, Any]) -> None:
    plugin = listed_plugins["huey"]
    assert plugin["distribution"] == "airlock-huey"
    assert plugin["registers"]["executor"] == ["huey"]


def test_importing_the_package_and_plugin_does_not_import_huey() -> None:
    code = (
        "import sys, airlock, airlock_huey, airlock_huey.plugin\n"
        "airlock.plugins.names('executor')\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'huey'], 'huey imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_task_kind_is_the_class_huey_really_has() -> None:
    assert f"{TaskWrapper.__module__}.{TaskWrapper.__qualname__}" == "huey.api.TaskWrapper"
    assert airlock.plugins.task_kinds()["huey.api.TaskWrapper"] == "huey"


def test_huey_tasks_route_to_huey_and_plain_functions_run_here() -> None:
    assert airlock.plugins.executor_name_for(send_email) == "huey"
    assert airlock.plugins.executor_name_for("test_huey_plugin.send_email") == "huey"
    assert airlock.plugins.executor_name_for(plain) == "sync"


def test_a_task_is_found_by_huey_s_name_or_its_attribute_path() -> None:
    assert airlock.plugins.resolve_task("test_huey_plugin.send_email") is send_email
    assert airlock.plugins.resolve_task("test_huey_plugin.welcome") is send_welcome
    assert airlock.plugins.resolve_task("test_huey_plugin.send_welcome") is send_welcome
    assert airlock.plugins.resolve_task("test_huey_plugin.plain") is None
    assert airlock.plugins.resolve_task("test_huey_plugin.missing") is None


def test_a_huey_task_goes_by_huey_s_name_in_intents_and_policies() -> None:
    ran: list[int] = []
    with airlock.scope(policy=airlock.BlockTasks({"send_email"}), executor="sync") as scope:
        airlock.enqueue(send_email, 1)  # blocked by its name: it never runs
        airlock.enqueue(ran.append, 2)
    assert ran == [2]
    assert scope.intents[0].name == "send_email"
    assert "send_email(1)" in repr(scope.intents[0])
    assert airlock.plugins.task_reference(send_email) == "test_huey_plugin.send_email"
    assert airlock.plugins.task_reference(send_welcome) == "test_huey_plugin.welcome"


def test_a_name_never_imports_a_module() -> None:
    """``huey.contrib.sql_huey`` exists, but this process never imported it."""
    assert "huey.contrib.sql_huey" not in sys.modules
    assert airlock.plugins.resolve_task("huey.contrib.sql_huey.SqlHuey") is None
    assert "huey.contrib.sql_huey" not in sys.modules


def test_arguments_are_checked_against_the_wrapped_function() -> None:
    with airlock.scope(policy=airlock.DropAll()) as scope:
        airlock.enqueue(send_email, 1, urgent=True)
        with pytest.raises(airlock.TaskArgumentError, match="urgnt"):
            airlock.enqueue(send_email, 1, urgnt=True)
        with pytest.raises(airlock.TaskArgumentError):
            airlock.enqueue(send_welcome)
    assert len(scope.intents) == 1


def test_a_context_task_is_checked_without_the_task_huey_passes() -> None:
    with airlock.scope(policy=airlock.DropAll()) as scope:
        airlock.enqueue(with_context, 1)
        with pytest.raises(airlock.TaskArgumentError):
            airlock.enqueue(with_context, 1, 2)
    assert len(scope.intents) == 1


def test_the_compatibility_path_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    path = "airlock.integrations.executors.huey"
    monkeypatch.setitem(sys.modules, "airlock_huey", None)  # as if it were not installed
    monkeypatch.delitem(sys.modules, path, raising=False)
    with pytest.raises(ImportError, match="pip install airlock-huey"):
        importlib.import_module(path)
