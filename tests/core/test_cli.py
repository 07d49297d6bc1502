"""The ``airlock`` command (console script and ``python -m airlock``), run for real."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from coresupport import env_with_path, fake_distribution, run_python, subprocess_env

CHECKING_PLUGIN = """
import airlock

@airlock.hookimpl
def airlock_check():
    return ["the widget URL is not set: export WIDGET_URL=..."]
"""

CRASHING_PLUGIN = """
import airlock

@airlock.hookimpl
def airlock_check():
    raise RuntimeError("cannot reach the widget")
"""

WARNING_PLUGIN = """
import airlock

@airlock.hookimpl
def airlock_check():
    return [airlock.plugins.CheckWarning("the widget cache is small: set WIDGET_CACHE=100")]
"""

MISSPELLED_PLUGIN = """
import airlock

@airlock.hookimpl
def airlock_intent_enqueud(intent):
    pass
"""


def airlock_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_python("-m", "airlock", *args, env=env)


def test_plugins_lists_core_as_a_table() -> None:
    result = airlock_cli("plugins")
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split()[:2] == ["PLUGIN", "DISTRIBUTION"]
    assert "HOOKS" in header
    (core,) = [row for row in rows if row.split()[0] == "core"]
    assert "airlock-core" in core
    assert "sync" in core
    assert "register_executors" in core


def test_plugins_json_is_valid_and_complete() -> None:
    result = airlock_cli("plugins", "--json")
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    assert isinstance(listing, list)
    core = next(entry for entry in listing if entry["name"] == "core")
    assert set(core) == {"name", "distribution", "version", "registers", "hooks", "error"}
    assert core["distribution"] == "airlock-core"
    assert core["version"]
    assert core["error"] is None
    assert core["registers"]["executor"] == ["auto", "sync"]
    assert core["registers"]["scope"] == ["default"]
    assert {"allow_all", "drop_all", "dedupe"} <= set(core["registers"]["policy"])
    assert "airlock_register_executors" in core["hooks"]


def test_the_console_script_is_installed_and_runs() -> None:
    script = Path(sys.executable).with_name("airlock")
    assert script.exists(), f"no console script next to {sys.executable}"
    result = subprocess.run(
        [str(script), "plugins", "--json"],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert any(entry["name"] == "core" for entry in json.loads(result.stdout))


@pytest.mark.parametrize("autoload", ["on", "off"])
def test_check_passes_on_a_good_configuration(autoload: str) -> None:
    env = subprocess_env(AIRLOCK_DISABLE_PLUGIN_AUTOLOAD="1" if autoload == "off" else None)
    result = airlock_cli("check", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("airlock check: OK (executor=auto ")
    assert "routing by task kind" in result.stdout
    assert "any other callable -> sync (in-process)" in result.stdout


def test_check_reports_the_configured_executor() -> None:
    result = airlock_cli(
        "check", env=subprocess_env(AIRLOCK_EXECUTOR="coresupport.recording_executor")
    )
    assert result.returncode == 0, result.stderr
    assert "coresupport.recording_executor" in result.stdout


def test_check_fails_on_an_unknown_executor_with_a_readable_report() -> None:
    result = airlock_cli("check", env=subprocess_env(AIRLOCK_EXECUTOR="nonexistent"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("airlock check: ")
    assert "problem(s)\n  1. " in result.stderr
    assert "Unknown executor 'nonexistent'" in result.stderr
    assert "sync" in result.stderr
    assert "AIRLOCK_EXECUTOR" in result.stderr


def test_check_fails_on_a_dotted_path_that_does_not_import() -> None:
    result = airlock_cli("check", env=subprocess_env(AIRLOCK_EXECUTOR="no_such_pkg.executor"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "Cannot import" in result.stderr


def test_check_collects_problems_reported_by_plugins(tmp_path: Path) -> None:
    fake_distribution(
        tmp_path,
        "core-fake-checking",
        {"core_fake_checking": "core_fake_checking"},
        {"core_fake_checking": CHECKING_PLUGIN},
    )
    result = airlock_cli("check", env=env_with_path(tmp_path))
    assert result.returncode == 1
    assert "the widget URL is not set" in result.stderr


def test_check_prints_warnings_without_failing(tmp_path: Path) -> None:
    fake_distribution(
        tmp_path,
        "core-fake-warning",
        {"core_fake_warning": "core_fake_warning"},
        {"core_fake_warning": WARNING_PLUGIN},
    )
    result = airlock_cli("check", env=env_with_path(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("airlock check: OK")
    assert "airlock check: 1 warning(s)\n  1. the widget cache is small" in result.stderr


def test_check_reports_a_plugin_check_that_raises_instead_of_crashing(tmp_path: Path) -> None:
    fake_distribution(
        tmp_path,
        "core-fake-crashing",
        {"core_fake_crashing": "core_fake_crashing"},
        {"core_fake_crashing": CRASHING_PLUGIN},
    )
    result = airlock_cli("check", env=env_with_path(tmp_path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "core_fake_crashing" in result.stderr
    assert "cannot reach the widget" in result.stderr


def test_check_reports_a_misspelled_hook_implementation(tmp_path: Path) -> None:
    fake_distribution(
        tmp_path,
        "core-fake-typo",
        {"core_fake_typo": "core_fake_typo"},
        {"core_fake_typo": MISSPELLED_PLUGIN},
    )
    result = airlock_cli("check", env=env_with_path(tmp_path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "airlock_intent_enqueud" in result.stderr


def test_check_and_plugins_fail_readably_on_a_broken_plugin(tmp_path: Path) -> None:
    fake_distribution(
        tmp_path,
        "core-fake-broken",
        {"core_fake_broken": "core_fake_broken"},
        {"core_fake_broken": "raise ImportError('frobnicate is required')\n"},
    )
    env = env_with_path(tmp_path)
    for command in (["check"], ["plugins"], ["plugins", "--json"]):
        result = airlock_cli(*command, env=env)
        assert result.returncode == 1, command
        assert "frobnicate is required" in result.stderr
        assert "Traceback" not in result.stderr


def test_no_command_prints_the_help() -> None:
    result = airlock_cli()
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: airlock")
    assert "plugins" in result.stdout
    assert "check" in result.stdout
    assert "exit status:" in result.stdout


def test_an_unknown_command_is_a_usage_error() -> None:
    result = airlock_cli("frobnicate")
    assert result.returncode == 2
    assert "usage: airlock" in result.stderr


def test_version_names_the_installed_airlock_core() -> None:
    from importlib.metadata import version

    result = airlock_cli("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"airlock {version('airlock-core')}"


@pytest.mark.parametrize("command", [[], ["plugins"], ["check"]])
def test_help_is_plain_text_with_a_description(command: list[str]) -> None:
    result = airlock_cli(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "`" not in result.stdout
    description = result.stdout.split("\n\n")[1]
    assert len(description.split()) >= 5, result.stdout
    assert "exit status:" in result.stdout


def test_check_takes_django_settings_and_pythonpath_as_django_admin_does(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "__init__.py").write_text("")
    (project / "settings.py").write_text(
        "SECRET_KEY = 'x'\nINSTALLED_APPS = ['airlock_django']\n"
        "DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': ':memory:'}}\n"
        "AIRLOCK = {'EXECUTOR': 'sync'}\n"
    )
    result = airlock_cli(
        "check", "--settings", "proj.settings", "--pythonpath", str(tmp_path), env=subprocess_env()
    )
    assert result.returncode == 0, result.stderr
    assert "executor=sync" in result.stdout
    missing = airlock_cli("check", "--settings", "proj.settings", env=subprocess_env())
    assert missing.returncode == 1
    assert "proj.settings" in missing.stderr
    assert "--pythonpath" in missing.stderr
