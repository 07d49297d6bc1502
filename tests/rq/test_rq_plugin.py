"""The ``rq`` plugin is found through the ``airlock`` entry-point group."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
import rq_jobs
from conftest import ROOT
from redis import Redis
from rq import Queue

import airlock
import airlock.plugins
import airlock_rq


def test_executor_by_name_and_compatibility_path() -> None:
    from airlock.integrations.executors.rq import rq_executor

    assert rq_executor is airlock_rq.rq_executor
    with airlock.scope(executor="rq") as scope:
        pass
    assert scope.executor is airlock_rq.rq_executor
    airlock.configure(executor="airlock.integrations.executors.rq.rq_executor")
    assert airlock.get_configuration()["executor"] is airlock_rq.rq_executor


def test_plugins_command_lists_the_rq_plugin(listed_plugins: dict[str, Any]) -> None:
    rq_plugin = listed_plugins["rq"]
    assert rq_plugin["distribution"] == "airlock-rq"
    assert rq_plugin["registers"]["executor"] == ["rq"]
    assert rq_plugin["registers"]["task kind"] == []


def test_rq_jobs_are_plain_functions_to_airlock() -> None:
    """RQ has no task class and no task registry: nothing to claim, nothing to resolve.

    So with no executor configured an RQ job function runs in-process, like any
    function (the docs say to select ``rq``), and a stored row's dotted path is
    only ever run if the outbox's allowlist names it.
    """
    assert "rq" not in airlock.plugins.task_kinds().values()
    assert airlock.plugins.executor_name_for(rq_jobs.record) == "sync"
    assert airlock.plugins.resolve_task("rq_jobs.record") is None
    assert airlock.plugins.resolve_task("record") is None


def test_check_reports_a_missing_connection() -> None:
    env = {k: v for k, v in os.environ.items() if k != "AIRLOCK_RQ_URL"}
    done = subprocess.run(
        [sys.executable, "-m", "airlock", "check"],
        capture_output=True,
        text=True,
        env={**env, "AIRLOCK_EXECUTOR": "rq"},
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "AIRLOCK_RQ_URL" in done.stdout + done.stderr


def test_check_warns_when_rq_is_set_up_but_not_selected(rq_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRLOCK_")}
    done = subprocess.run(
        [sys.executable, "-m", "airlock", "check"],
        capture_output=True,
        text=True,
        env={**env, "AIRLOCK_RQ_URL": rq_url},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "1 warning(s)" in done.stderr
    assert "runs them in-process" in done.stderr
    assert "AIRLOCK_EXECUTOR=rq" in done.stderr
    selected = subprocess.run(
        [sys.executable, "-m", "airlock", "check"],
        capture_output=True,
        text=True,
        env={**env, "AIRLOCK_RQ_URL": rq_url, "AIRLOCK_EXECUTOR": "rq"},
        timeout=60,
        check=False,
    )
    assert selected.returncode == 0, selected.stderr
    assert "warning" not in selected.stderr


@pytest.mark.redis
def test_django_setting_configures_the_connection(connection: Redis, rq_url: str) -> None:
    script = (
        "import django.conf, airlock, rq_jobs\n"
        f"django.conf.settings.configure(AIRLOCK_RQ_URL={rq_url!r})\n"
        "with airlock.scope(executor='rq'):\n"
        "    airlock.enqueue(rq_jobs.record, 'dj', 1, _dispatch_options={'queue': 'rq_django'})\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "AIRLOCK_RQ_URL"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tests" / "rq"), env.get("PYTHONPATH", "")])
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=60)
    assert Queue("rq_django", connection=connection).count == 1
