"""tools/release_tag.py: the release workflow publishes only what a correct tag names."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from monorepo import distributions

ROOT = Path(__file__).resolve().parents[2]


def run(tag: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "tools/release_tag.py"), tag],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_each_distribution_s_tag_names_it():
    for distribution in distributions(ROOT):
        done = run(distribution.tag(distribution.version))
        assert done.returncode == 0, done.stderr
        assert done.stdout == f"distribution={distribution.name}\n"


def test_a_tag_with_another_version_is_refused():
    (rq,) = [d for d in distributions(ROOT) if d.name == "airlock-rq"]
    done = run("airlock-rq-v99.0.0")
    assert done.returncode == 1
    source = "airlock-rq/src/airlock_rq/__init__.py"
    assert f"tag airlock-rq-v99.0.0 says 99.0.0, but {source} says {rq.version}" in done.stderr


def test_a_tag_that_names_no_distribution_is_refused():
    done = run("airlock-nope-v1.0.0")
    assert done.returncode == 1
    assert "unknown distribution 'airlock-nope'" in done.stderr
    done = run("v1.0.0")
    assert done.returncode == 1
    done = run("airlock-rq-vsoon")
    assert done.returncode == 1
    assert "does not end in a version" in done.stderr
