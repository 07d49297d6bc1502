"""Compatibility import paths: ``sync`` forwards in core; the others name what to install."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import pytest
from coresupport import Recorder

import airlock
import airlock.integrations


def task(*args: Any) -> None:
    pass


def test_the_sync_executor_compat_path_works(recorder: Recorder) -> None:
    from airlock.integrations.executors.sync import sync_executor

    assert sync_executor is airlock.sync_executor
    ran: list[int] = []
    with airlock.scope(executor=sync_executor):
        airlock.enqueue(ran.append, 1)
    assert ran == [1]


@pytest.mark.parametrize(
    ("compat_path", "package", "distribution"),
    [
        ("airlock.integrations.executors.celery", "airlock_celery", "airlock-celery"),
        ("airlock.integrations.executors.dramatiq", "airlock_dramatiq", "airlock-dramatiq"),
        ("airlock.integrations.executors.rq", "airlock_rq", "airlock-rq"),
        ("airlock.integrations.executors.django_tasks", "airlock_django", "airlock-django"),
        ("airlock.integrations.celery", "airlock_celery", "airlock-celery"),
        ("airlock.integrations.django", "airlock_django", "airlock-django"),
    ],
)
def test_a_compat_path_whose_distribution_is_missing_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, compat_path: str, package: str, distribution: str
) -> None:
    # None in sys.modules makes the package unfindable, installed or not.
    monkeypatch.setitem(sys.modules, package, None)
    for name in [m for m in sys.modules if m == compat_path or m.startswith(f"{compat_path}.")]:
        monkeypatch.delitem(sys.modules, name)
    with pytest.raises(ImportError, match=f"pip install {distribution}") as caught:
        importlib.import_module(compat_path)
    assert caught.value.name == package
    assert compat_path not in sys.modules


def test_require_names_the_distribution_for_a_missing_module() -> None:
    with pytest.raises(ImportError, match="pip install airlock-nothing-here") as caught:
        airlock.plugins.require("core_test_no_such_module", "airlock-nothing-here")
    assert caught.value.name == "core_test_no_such_module"


def test_require_is_silent_for_an_importable_module() -> None:
    airlock.plugins.require("json", "airlock-json")
