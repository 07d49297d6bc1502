"""The ``dramatiq`` plugin is found through the ``airlock`` entry-point group."""

from __future__ import annotations

from typing import Any

import airlock
import airlock_dramatiq


def test_executor_by_name_and_compatibility_path() -> None:
    from airlock.integrations.executors.dramatiq import dramatiq_executor

    assert dramatiq_executor is airlock_dramatiq.dramatiq_executor
    with airlock.scope(executor="dramatiq") as scope:
        pass
    assert scope.executor is airlock_dramatiq.dramatiq_executor
    airlock.configure(executor="airlock.integrations.executors.dramatiq.dramatiq_executor")
    assert airlock.get_configuration()["executor"] is airlock_dramatiq.dramatiq_executor


def test_plugins_command_lists_the_dramatiq_plugin(listed_plugins: dict[str, Any]) -> None:
    plugin = listed_plugins["dramatiq"]
    assert plugin["distribution"] == "airlock-dramatiq"
    assert plugin["registers"]["executor"] == ["dramatiq"]
