"""airlock.enqueue checks arguments against the task's signature, in mypy and pyright."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLES = Path(__file__).parent / "samples"


def expected_lines(path: Path) -> set[int]:
    lines = path.read_text().splitlines()
    return {number for number, line in enumerate(lines, 1) if "# expect-error" in line}


def run_mypy(path: Path) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.returncode, done.stdout + done.stderr


def run_pyright(path: Path) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "pyright", "--pythonpath", sys.executable, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.returncode, done.stdout + done.stderr


CHECKERS = {
    "mypy": (run_mypy, re.compile(r":(\d+): error:")),
    "pyright": (run_pyright, re.compile(r":(\d+):\d+ - error:")),
}


@pytest.mark.parametrize("checker", sorted(CHECKERS))
def test_correct_calls_pass(checker: str) -> None:
    run, _ = CHECKERS[checker]
    code, output = run(SAMPLES / "correct.py")
    assert code == 0, output


@pytest.mark.parametrize("checker", sorted(CHECKERS))
def test_each_wrong_call_is_flagged(checker: str) -> None:
    run, pattern = CHECKERS[checker]
    path = SAMPLES / "wrong.py"
    code, output = run(path)
    flagged = {int(match) for match in pattern.findall(output)}
    assert code != 0
    assert flagged == expected_lines(path), output
