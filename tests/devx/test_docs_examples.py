"""Every example of docs/testing-tools.md and docs/lint.md runs and says what the page says."""

from __future__ import annotations

import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, PLUGIN_ARGS, ROOT, flake8_config, run_flake8

from airlock.testing import capture


def copy_examples(pytester: pytest.Pytester, *names: str) -> None:
    for name in names:
        shutil.copy(EXAMPLES / name, pytester.path / name)


def test_the_testing_examples_pass(pytester: pytest.Pytester) -> None:
    copy_examples(pytester, "orders.py", "test_orders.py", "test_markers.py")
    result = pytester.runpytest(*PLUGIN_ARGS, "-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(passed=11)


#: Runs the unittest example in a process where importing pytest fails, as if it
#: were not installed: airlock.testing must not need it.
WITHOUT_PYTEST = """
import sys, unittest
sys.modules["pytest"] = sys.modules["_pytest"] = None
unittest.main(module="test_orders_unittest", argv=["unittest", "-v"])
"""


def test_the_unittest_example_passes_where_pytest_cannot_be_imported() -> None:
    ran = subprocess.run(
        [sys.executable, "-c", WITHOUT_PYTEST],
        cwd=EXAMPLES,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr
    assert "Ran 3 tests" in ran.stderr
    assert ran.stderr.rstrip().endswith("OK")


def test_the_failing_example_prints_what_the_page_shows(pytester: pytest.Pytester) -> None:
    copy_examples(pytester, "orders.py", "failing_test.py")
    result = pytester.runpytest(*PLUGIN_ARGS, "-p", "no:cacheprovider", "failing_test.py")
    result.assert_outcomes(failed=1)
    shown = (EXAMPLES / "failing_output.txt").read_text().splitlines()
    start = result.outlines.index(shown[0])
    assert result.outlines[start : start + len(shown)] == shown


def test_the_lint_example_prints_what_the_page_shows(tmp_path: Path) -> None:
    config = (EXAMPLES / "flake8.cfg").read_text().removeprefix("[flake8]\n")
    (tmp_path / "setup.cfg").write_text(flake8_config(config))
    shutil.copy(EXAMPLES / "lint_before.py", tmp_path)
    result = run_flake8(tmp_path, "lint_before.py")
    assert result.stdout == (EXAMPLES / "lint_output.txt").read_text(), result.stderr
    assert result.returncode == 1


def test_the_fixed_example_is_clean_and_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "setup.cfg").write_text(flake8_config("max-line-length = 100\n"))
    shutil.copy(EXAMPLES / "lint_after.py", tmp_path)
    result = run_flake8(tmp_path, "lint_after.py")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")

    monkeypatch.syspath_prepend(str(EXAMPLES))
    try:
        mark_paid = runpy.run_path(str(EXAMPLES / "lint_after.py"))["mark_paid"]
        with capture() as captured:
            mark_paid(42)
    finally:
        sys.modules.pop("orders", None)
    assert captured.names == ["send_receipt", "notify_warehouse"]


def test_every_example_is_shown_in_the_docs() -> None:
    pages = (ROOT / "docs" / "testing-tools.md").read_text() + (
        ROOT / "docs" / "lint.md"
    ).read_text()
    missing = [
        p.name
        for p in sorted(EXAMPLES.glob("[!.]*"))
        if f'--8<-- "docs/examples/devx/{p.name}' not in pages
    ]
    assert missing == []
