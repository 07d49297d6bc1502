"""The ``celery`` plugin: registration by entry point, names, and the compatibility import paths."""

from __future__ import annotations

import subprocess
import sys

import pytest

import airlock
import airlock_celery
from airlock_celery import celery_executor


def test_registered_under_the_name_celery():
    assert airlock.plugins.lookup("executor", "celery") is celery_executor
    with airlock.scope(executor="celery") as scope:
        assert scope.executor is celery_executor


def test_configure_by_name_and_by_environment(monkeypatch):
    airlock.configure(executor="celery")
    assert airlock.get_configuration()["executor"] is celery_executor
    airlock.reset_configuration()
    monkeypatch.setenv("AIRLOCK_EXECUTOR", "celery")
    assert airlock.get_configuration()["executor"] is celery_executor


def test_compat_import_paths_are_the_same_objects():
    from airlock.integrations.celery import (
        LegacyTaskShim,
        install_global_intercept,
        uninstall_global_intercept,
    )
    from airlock.integrations.executors.celery import celery_executor as compat_executor

    assert compat_executor is celery_executor
    assert LegacyTaskShim is airlock_celery.LegacyTaskShim
    assert install_global_intercept is airlock_celery.install_global_intercept
    assert uninstall_global_intercept is airlock_celery.uninstall_global_intercept


def test_unknown_attribute():
    with pytest.raises(AttributeError):
        airlock_celery.not_a_thing  # noqa: B018


def test_cli_lists_the_plugin(listed_plugins):
    celery = listed_plugins["celery"]
    assert celery["distribution"] == "airlock-celery"
    assert celery["registers"]["executor"] == ["celery"]


def test_loading_the_plugin_does_not_import_celery_or_kombu():
    code = (
        "import sys, airlock; airlock.plugins.lookup('executor', 'celery');"
        " print('celery' in sys.modules or 'kombu' in sys.modules)"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert output.strip() == "False"
