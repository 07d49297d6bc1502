"""The pre-commit hooks run ruff with the project's configuration, and pass on the tree."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.timeout(600)
def test_pre_commit_hooks_pass_on_the_tree(clone):
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files"],
        cwd=clone.path, env=clone.env, capture_output=True, text=True, timeout=540,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ruff check" in done.stdout
    assert "ruff format" in done.stdout
    assert done.stdout.count("Passed") == 2, done.stdout


@pytest.mark.timeout(600)
def test_pre_commit_hooks_catch_a_lint_error(clone):
    clone.write("tools/sloppy.py", "import os\n")
    clone.git("add", "tools/sloppy.py")
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--files", "tools/sloppy.py"],
        cwd=clone.path, env=clone.env, capture_output=True, text=True, timeout=540,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout
    assert "F401" in done.stdout or "D100" in done.stdout, done.stdout
