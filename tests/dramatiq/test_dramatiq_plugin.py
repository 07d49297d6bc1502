"""The ``dramatiq`` plugin is found through the ``airlock`` entry-point group."""

from __future__ import annotations

import json
import subprocess
import sys

import airlock
import airlock_dramatiq


def test_executor_by_name_and_seed_path() -> None:
    from airlock.integrations.executors.dramatiq import dramatiq_executor

    assert dramatiq_executor is airlock_dramatiq.dramatiq_executor
    with airlock.scope(executor="dramatiq") as scope:
        pass
    assert scope.executor is airlock_dramatiq.dramatiq_executor
    airlock.configure(executor="airlock.integrations.executors.dramatiq.dramatiq_executor")
    assert airlock.get_configuration()["executor"] is airlock_dramatiq.dramatiq_executor


def test_plugins_command_lists_the_dramatiq_plugin() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "airlock", "plugins", "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    [plugin] = [p for p in json.loads(out) if p["name"] == "dramatiq"]
    assert plugin["distribution"] == "airlock-dramatiq"
    assert plugin["registers"]["executor"] == ["dramatiq"]
