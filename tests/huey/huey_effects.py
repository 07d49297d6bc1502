"""What the tests' Huey tasks do: write one line per effect to the log file both sides read.

The consumer and the test share the file named by ``HUEY_TEST_LOG``; lines are
appended whole (``O_APPEND``), so concurrent workers never interleave them.
"""

from __future__ import annotations

import os
from pathlib import Path


def write(key: str, value: object) -> None:
    """Append ``key value`` to the shared log."""
    with Path(os.environ["HUEY_TEST_LOG"]).open("a") as log:
        log.write(f"{key} {value}\n")


def read(path: Path, key: str) -> list[str]:
    """The values logged under ``key``, in the order they were written."""
    if not path.exists():
        return []
    lines = path.read_text().splitlines()
    return [line.split(" ", 1)[1] for line in lines if line.split(" ", 1)[0] == key]
