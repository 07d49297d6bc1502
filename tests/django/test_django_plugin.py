"""The `django` plugin, compatibility import paths and the django_tasks executor."""

from __future__ import annotations

import datetime
import importlib
import os
import subprocess
import sys
from pathlib import Path

import django
import pytest
from django.db import transaction

import airlock
import airlock_django
from airlock_django import AirlockMiddleware, DjangoScope
from airlock_django.apps import AirlockDjangoConfig

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
NEEDS_TASKS = pytest.mark.skipif(
    django.VERSION < (6, 0),
    reason=f"django.tasks arrived in Django 6.0; this is Django {django.get_version()}",
)


def test_plugin_registers_the_django_scope() -> None:
    assert airlock.plugins.lookup("scope", "django") is DjangoScope
    assert airlock.plugins.names("scope")["django"] == "django"
    assert airlock.plugins.distribution("django") == "airlock-django"


def test_compat_paths() -> None:
    compat = importlib.import_module("airlock.integrations.django")
    assert compat.AirlockMiddleware is AirlockMiddleware
    assert compat.DjangoScope is DjangoScope
    apps_module = importlib.import_module("airlock.integrations.django.apps")
    assert apps_module.AirlockDjangoConfig is AirlockDjangoConfig
    from django.apps import apps

    assert apps.get_app_config("airlock").name == "airlock_django"
    assert apps.is_installed("airlock_django")


@NEEDS_TASKS
def test_django_tasks_executor_is_registered() -> None:
    from airlock.integrations.executors.django_tasks import django_tasks_executor

    assert airlock.plugins.lookup("executor", "django_tasks") is django_tasks_executor
    assert airlock_django.django_tasks_executor is django_tasks_executor


@pytest.mark.skipif(django.VERSION >= (6, 0), reason="Django >= 6.0 has django.tasks")
def test_django_tasks_needs_django_6() -> None:
    with pytest.raises(ImportError, match=r"Django 6\.0.*Django 4|Django 6\.0.*Django 5"):
        importlib.import_module("airlock.integrations.executors.django_tasks")
    with pytest.raises(ImportError, match=r"needs Django's tasks framework"):
        _ = airlock_django.django_tasks_executor
    with pytest.raises(airlock.UnknownPluginError):
        airlock.plugins.lookup("executor", "django_tasks")


@pytest.fixture
def dummy_backend():
    from django.tasks import default_task_backend

    default_task_backend.clear()
    yield default_task_backend
    default_task_backend.clear()


@NEEDS_TASKS
@pytest.mark.django_db(transaction=True)
def test_django_tasks_executor_enqueues_after_commit(dummy_backend) -> None:
    from airtest.jobs import send_newsletter, send_receipt

    run_after = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    with transaction.atomic(), airlock.scope(executor="django_tasks"):
        airlock.enqueue(send_receipt.func, 7)
        airlock.enqueue(
            send_newsletter.func,
            user_id=3,
            _dispatch_options={"queue_name": "default", "priority": 5, "run_after": run_after},
        )
        airlock.enqueue("airtest.jobs.send_receipt", 8)
        assert dummy_backend.results == []
    results = dummy_backend.results
    assert [(r.task.name, r.args, r.kwargs) for r in results] == [
        ("send_receipt", [7], {}),
        ("send_newsletter", [], {"user_id": 3}),
        ("send_receipt", [8], {}),
    ]
    newsletter = results[1].task
    assert (newsletter.queue_name, newsletter.priority, newsletter.run_after) == (
        "default",
        5,
        run_after,
    )
    assert results[0].task.queue_name == "default"


@NEEDS_TASKS
@pytest.mark.django_db(transaction=True)
def test_a_task_object_is_enqueued_as_itself(dummy_backend) -> None:
    from airtest.jobs import send_receipt

    with airlock.scope(executor="django_tasks"):
        airlock.enqueue(send_receipt, 1)
    assert [(r.task.name, r.args) for r in dummy_backend.results] == [("send_receipt", [1])]


@NEEDS_TASKS
def test_django_tasks_run_after_timedelta_and_backend(dummy_backend) -> None:

    with airlock.scope(executor="django_tasks"):
        airlock.enqueue(
            "airtest.jobs.send_receipt",
            1,
            _dispatch_options={"run_after": datetime.timedelta(hours=1), "backend": "default"},
        )
    task = dummy_backend.results[0].task
    assert task.run_after is not None
    assert task.run_after > datetime.datetime.now(datetime.timezone.utc)


@NEEDS_TASKS
@pytest.mark.parametrize(
    ("task", "options", "message"),
    [
        ("plain", None, "Decorate the function with @django.tasks.task"),
        ("receipt", {"countdown": 60}, "Unknown dispatch option"),
        ("receipt", {"run_after": "tomorrow"}, "datetime or a timedelta"),
        ("receipt", {"queue_name": "nowhere"}, "not valid for backend"),
    ],
)
def test_django_tasks_bad_input_is_a_dispatch_error(dummy_backend, task, options, message) -> None:
    from airtest import effects
    from airtest.jobs import send_receipt

    target = effects.send_confirmation if task == "plain" else send_receipt.func
    with pytest.raises(airlock.DispatchError) as caught, airlock.scope(executor="django_tasks"):
        airlock.enqueue(target, 1, _dispatch_options=options)
    assert message in str(caught.value.failed[0][1])
    assert dummy_backend.results == []


# -- a third-party plugin that fails to load ---------------------------------------------


@pytest.fixture
def broken_plugin(tmp_path: Path) -> dict[str, str]:
    """An installed distribution whose airlock entry point fails to import; its environment."""
    info = tmp_path / "airlock_broken_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: airlock-broken-plugin\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text("[airlock]\nbroken = airlock_broken_plugin\n")
    (tmp_path / "airlock_broken_plugin.py").write_text(
        'raise ImportError("this plugin needs the frobnicate library")\n'
    )
    from django.db import connections

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "airtest.settings",
        "AIRTEST_DB_NAME": connections["default"].settings_dict["NAME"],
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(HERE), str(ROOT / "examples" / "shop")]),
    }


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], env=env, cwd=HERE, capture_output=True, text=True, timeout=60
    )


def test_manage_py_check_reports_the_broken_distribution(broken_plugin: dict[str, str]) -> None:
    done = run(broken_plugin, "-m", "django", "check")
    assert done.returncode == 1
    assert "airlock.E011" in done.stderr
    assert "'broken' (distribution airlock-broken-plugin)" in done.stderr
    assert "this plugin needs the frobnicate library" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.django_db(transaction=True)
def test_django_serves_requests_that_do_not_use_the_broken_plugin(
    broken_plugin: dict[str, str],
) -> None:
    request = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "from airtest import effects\n"
        "response = Client().get('/checkout/')\n"
        "print(response.status_code, [name for name, _, _ in effects.SENT])\n"
    )
    done = run(broken_plugin, "-c", request)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["200", "['notify_warehouse',", "'send_confirmation']"]


def test_the_check_names_the_distribution_that_fails_to_load(
    broken_plugin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """In this process: entry points found again with the broken one on the path."""
    from airlock_django.checks import check_plugins
    from airlock_django.conf import configure_from_settings

    monkeypatch.syspath_prepend(broken_plugin["PYTHONPATH"].split(os.pathsep)[0])
    airlock.plugins.reset()
    try:
        (error,) = check_plugins()
    finally:
        monkeypatch.undo()
        airlock.plugins.reset()
        configure_from_settings()
    assert error.id == "airlock.E011"
    assert "'broken' (distribution airlock-broken-plugin)" in error.msg
    assert "this plugin needs the frobnicate library" in error.msg
    assert "Fix or uninstall" in str(error.hint)
    assert check_plugins() == []
