"""devx suite: the pytest plugin (through pytester) and the flake8 rule (through flake8)."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "docs" / "examples" / "devx"

#: Makes the plugin available to inner pytest runs whether or not the ``pytest11``
#: entry point is installed (its name equals the module's, so both at once is fine).
#: In-process runs find the module already imported by the outer run, hence the -W.
PLUGIN_ARGS = ("-p", "airlock.testing", "-W", "ignore::pytest.PytestAssertRewriteWarning")


@pytest.fixture(autouse=True)
def defaults(fresh_airlock: None) -> None:
    """Every test starts from airlock's defaults (see tests/conftest.py)."""


def flake8_plugin_installed() -> bool:
    """Whether an installed distribution registers the checker with flake8."""
    return any(ep.value == "airlock.lint:Checker" for ep in entry_points(group="flake8.extension"))


def flake8_config(extra: str = "") -> str:
    """A flake8 config; declares the checker as a local plugin when no entry point does."""
    text = "[flake8]\n" + extra
    if not flake8_plugin_installed():
        text += "\n[flake8:local-plugins]\nextension =\n    ALK = airlock.lint:Checker\n"
    return text


def run_flake8(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the real flake8 in ``cwd`` (where its config lives), with a bounded wait."""
    return subprocess.run(
        [sys.executable, "-m", "flake8", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
