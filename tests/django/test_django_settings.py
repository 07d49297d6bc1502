"""settings.AIRLOCK: configuration, and what `manage.py check` / `airlock check` report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from airtest import effects
from django.core.checks import Error, Warning, run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

import airlock
from airlock_django import DjangoScope
from airlock_django.conf import MisconfiguredExecutor

HERE = Path(__file__).parent


class PlainScope(airlock.Scope):
    """A scope that does not wait for transactions (airlock.W001)."""


def airlock_messages() -> list:
    return run_checks(tags=["airlock"])


def ids() -> list[str]:
    return [m.id for m in airlock_messages()]


def test_valid_settings_pass_the_checks() -> None:
    call_command("check", verbosity=0)
    assert airlock_messages() == []


def test_settings_configure_airlock() -> None:
    with override_settings(
        AIRLOCK={
            "EXECUTOR": "airlock.sync_executor",
            "POLICY": "drop_all",
            "SCOPE": "django",
            "SCOPE_KWARGS": {"using": "sqlite", "on_dispatch_error": "continue"},
        }
    ):
        configuration = airlock.get_configuration()
        assert configuration["executor"] is airlock.sync_executor
        assert isinstance(configuration["policy"], airlock.DropAll)
        assert configuration["scope_cls"] is DjangoScope
        with airlock.scope() as scope:
            assert scope.using == "sqlite"
    assert isinstance(airlock.get_configuration()["policy"], airlock.AllowAll)


def test_scope_may_be_a_dotted_path_to_a_subclass() -> None:
    with override_settings(AIRLOCK={"SCOPE": "test_django_settings.PlainScope"}):
        assert airlock.get_configuration()["scope_cls"] is PlainScope
        messages = airlock_messages()
    assert [(type(m), m.id) for m in messages] == [(Warning, "airlock.W001")]


@pytest.mark.parametrize(
    ("value", "check_id", "text"),
    [
        (["EXECUTOR", "sync"], "airlock.E001", "must be a dict"),
        ({"EXECUTER": "sync"}, "airlock.E002", "Did you mean 'EXECUTOR'?"),
        ({"EXECUTOR": "celry"}, "airlock.E003", "Did you mean 'celery'?"),
        ({"EXECUTOR": "shop.tasks.nothing_here"}, "airlock.E003", "Cannot import"),
        ({"POLICY": "drop_everything"}, "airlock.E004", "drop_all"),
        ({"SCOPE": "airlock.DropAll"}, "airlock.E005", "subclass of airlock.Scope"),
        ({"SCOPE": "nope"}, "airlock.E005", "Unknown scope"),
        ({"SCOPE_KWARGS": ["using"]}, "airlock.E006", "must be a dict"),
        ({"SCOPE_KWARGS": {"usin": "default"}}, "airlock.E006", "usin"),
        ({"SCOPE_KWARGS": {"using": "replica"}}, "airlock.E006", "replica"),
        ({"SCOPE_KWARGS": {"on_dispatch_error": "retry"}}, "airlock.E006", "retry"),
    ],
)
def test_invalid_settings_are_reported_by_check(value: object, check_id: str, text: str) -> None:
    with override_settings(AIRLOCK=value):
        messages = airlock_messages()
        assert [(type(m), m.id) for m in messages] == [(Error, check_id)]
        assert text in messages[0].msg + " " + (messages[0].hint or "")
        assert messages[0].hint
        with pytest.raises(SystemCheckError, match=check_id.replace(".", r"\.")):
            call_command("check", verbosity=0)
        # nothing escapes through a channel nobody chose: the flush reports the intent
        assert isinstance(airlock.get_configuration()["executor"], MisconfiguredExecutor)
        assert airlock.get_configuration()["scope_cls"] is DjangoScope
        with pytest.raises(airlock.DispatchError) as caught, airlock.scope():
            airlock.enqueue(effects.send_confirmation, 1)
        assert check_id in str(caught.value.failed[0][1])
    assert effects.SENT == []


def test_invalid_environment_executor_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRLOCK_EXECUTOR", "rabbit")
    with override_settings(AIRLOCK={}):
        messages = airlock_messages()
    assert [m.id for m in messages] == ["airlock.E003"]
    assert "AIRLOCK_EXECUTOR" in messages[0].msg


def test_compat_celery_executor_path_works_verbatim() -> None:
    from airlock.integrations.executors.celery import celery_executor

    with override_settings(
        AIRLOCK={"EXECUTOR": "airlock.integrations.executors.celery.celery_executor"}
    ):
        assert ids() == []
        assert airlock.get_configuration()["executor"] is celery_executor


def _run(*command: str, settings: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, *command], env=env, capture_output=True, text=True, timeout=60
    )


def test_airlock_check_reports_django_settings() -> None:
    ok = _run("-m", "airlock", "check", settings="airtest.settings")
    assert ok.returncode == 0, ok.stderr
    assert "scope=DjangoScope" in ok.stdout
    bad = _run("-m", "airlock", "check", settings="airtest.bad_settings")
    assert bad.returncode == 1
    assert "airlock.E003" in bad.stderr
    assert "Did you mean 'celery'?" in bad.stderr


def test_manage_py_check_in_a_fresh_process() -> None:
    bad = _run("-m", "django", "check", settings="airtest.bad_settings")
    assert bad.returncode == 1
    assert "airlock.E003" in bad.stderr
    assert "HINT:" in bad.stderr


def test_exception_middleware_below_airlock_is_a_warning() -> None:
    with override_settings(
        MIDDLEWARE=[
            "airlock.integrations.django.AirlockMiddleware",
            "airtest.middleware.FriendlyErrors",
        ]
    ):
        messages = airlock_messages()
    assert [(type(m), m.id) for m in messages] == [(Warning, "airlock.W002")]
    assert "Move AirlockMiddleware below airtest.middleware.FriendlyErrors" in messages[0].hint


def test_middleware_without_app_is_reported_by_airlock_check() -> None:
    result = _run("-m", "airlock", "check", settings="airtest.no_app_settings")
    assert result.returncode == 1
    assert "airlock.E010" in result.stderr
