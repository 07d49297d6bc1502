"""The ``django_q`` plugin: found by entry point, chosen explicitly."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from typing import Any

import pytest
from dqapp import tasks

import airlock
import airlock_django_q


def test_executor_by_name_and_compatibility_path() -> None:
    from airlock.integrations.executors.django_q import django_q_executor

    assert django_q_executor is airlock_django_q.django_q_executor
    with airlock.scope(executor="django_q") as scope:
        pass
    assert scope.executor is airlock_django_q.django_q_executor


def test_the_django_setting_selects_it() -> None:
    assert airlock.get_configuration()["executor"] is airlock_django_q.django_q_executor


def test_plugins_command_lists_the_django_q_plugin(listed_plugins: dict[str, Any]) -> None:
    plugin = listed_plugins["django_q"]
    assert plugin["distribution"] == "airlock-django-q"
    assert plugin["registers"]["executor"] == ["django_q"]


def test_importing_the_package_and_plugin_imports_neither_django_nor_django_q() -> None:
    code = (
        "import sys, airlock, airlock_django_q, airlock_django_q.plugin\n"
        "loaded = {m.split('.')[0] for m in sys.modules}\n"
        "assert not loaded & {'django', 'django_q'}, loaded & {'django', 'django_q'}\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_a_django_q_task_is_a_plain_function_that_routing_runs_here() -> None:
    """With no executor configured, a function runs in-process: choose django_q explicitly."""
    assert airlock.plugins.executor_name_for(tasks.record) == "sync"
    assert "django_q" not in airlock.plugins.task_kinds().values()


def test_check_warns_when_django_q_is_set_up_but_not_selected() -> None:
    from django.test import override_settings

    check = airlock.plugins.manager().hook.airlock_check
    with override_settings(AIRLOCK={}):
        (warning,) = [item for findings in check() for item in findings]
    assert isinstance(warning, airlock.plugins.CheckWarning)
    assert "runs it in-process" in warning
    assert [item for findings in check() for item in findings] == []  # django_q selected again


def test_names_are_not_resolved_by_the_plugin() -> None:
    assert airlock.plugins.resolve_task("dqapp.tasks.record") is None


def test_the_compatibility_path_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    path = "airlock.integrations.executors.django_q"
    monkeypatch.setitem(sys.modules, "airlock_django_q", None)  # as if it were not installed
    monkeypatch.delitem(sys.modules, path, raising=False)
    with pytest.raises(ImportError, match="pip install airlock-django-q"):
        importlib.import_module(path)


def test_the_executor_loads_outside_a_django_project() -> None:
    """``airlock check`` looks every executor up; django-q2 loads at the first dispatch."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    code = (
        "import sys, airlock\n"
        "executor = airlock.plugins.lookup('executor', 'django_q')\n"
        "assert executor.message_id_option == 'task_name'\n"
        "assert 'django_q' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    done = subprocess.run(
        [sys.executable, "-m", "airlock", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
