"""Release suite: the release tooling, run for real in a throwaway clone of this repository.

Each test gets its own clone of the work tree (uncommitted edits included, committed
there as one commit), with no remote and no tags, and a git identity of its own. The
nox sessions of the clone share one directory of virtualenvs for the whole run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

# Bound on one nox run: a release builds a wheel and an sdist in a fresh build env.
NOX_TIMEOUT = 300


@dataclass
class Clone:
    """A clone of the repository under test, and how to run git and nox in it."""

    path: Path
    env: dict[str, str]
    nox_envdir: Path

    def git(self, *args: str) -> str:
        """Run git in the clone; a failure fails the test with git's message."""
        done = subprocess.run(
            ["git", *args], cwd=self.path, env=self.env, capture_output=True, text=True
        )
        assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
        return done.stdout

    def nox(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``nox <args>`` on the clone's noxfile; returns the finished process."""
        return subprocess.run(
            [sys.executable, "-m", "nox", "--noxfile", str(self.path / "noxfile.py"),
             "--envdir", str(self.nox_envdir), *args],
            cwd=self.path, env={**self.env, **(env or {})}, capture_output=True, text=True,
            timeout=NOX_TIMEOUT,
        )  # fmt: skip

    def write(self, relative: str, text: str) -> Path:
        """Write a file of the clone (folders made as needed)."""
        path = self.path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def commit(self, message: str) -> str:
        """Commit everything in the work tree; return the new commit."""
        self.git("add", "--all")
        self.git("commit", "--quiet", "--message", message)
        return self.head()

    def head(self) -> str:
        """The commit checked out."""
        return self.git("rev-parse", "HEAD").strip()

    def status(self) -> str:
        """``git status --porcelain`` of the clone (empty when clean)."""
        return self.git("status", "--porcelain", "--untracked-files=all")

    def tags(self) -> list[str]:
        """The clone's tags."""
        return self.git("tag", "--list").split()


def _git_env(home: Path) -> dict[str, str]:
    """The environment of the clone's commands: a fixed identity, no user or system git
    configuration, and nothing of the nox session running this suite."""
    outer_bin = str(Path(sys.prefix) / "bin")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GIT_", "NOX_"))
        and key not in {"VIRTUAL_ENV", "AIRLOCK_CHANGELOG_BASE", "CONDA_PREFIX"}
    }
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != outer_bin)
    (home / "gitconfig").write_text("")
    env.update(
        GIT_AUTHOR_NAME="Release Test",
        GIT_AUTHOR_EMAIL="release-test@example.invalid",
        GIT_COMMITTER_NAME="Release Test",
        GIT_COMMITTER_EMAIL="release-test@example.invalid",
        GIT_CONFIG_GLOBAL=str(home / "gitconfig"),
        GIT_CONFIG_NOSYSTEM="1",
    )
    return env


def _changed_in_work_tree() -> list[str]:
    """Files of the repository under test that differ from its HEAD, or are new."""
    changed = subprocess.run(
        ["git", "diff", "--name-only", "--no-renames", "HEAD"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split("\n")  # fmt: skip
    new = subprocess.run(
        ["git", "ls-files", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split("\n")  # fmt: skip
    return [path for path in changed + new if path]


@pytest.fixture(scope="session")
def nox_envdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory of nox virtualenvs for every clone of the run."""
    return tmp_path_factory.mktemp("nox-envs")


@pytest.fixture
def clone(tmp_path: Path, nox_envdir: Path) -> Clone:
    """A fresh clone of the work tree under test, on branch main, clean, untagged."""
    env = _git_env(tmp_path)
    path = tmp_path / "repo"
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    subprocess.run(
        ["git", "clone", "--quiet", "--no-checkout", str(ROOT), str(path)], env=env, check=True
    )
    repo = Clone(path, env, nox_envdir)
    repo.git("checkout", "--quiet", "-B", "main", head)
    repo.git("remote", "remove", "origin")
    for tag in repo.tags():
        repo.git("tag", "--delete", tag)
    for relative in _changed_in_work_tree():
        source, target = ROOT / relative, path / relative
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        elif target.exists():
            target.unlink()
    if repo.status():
        repo.commit("The work tree under test")
    return repo
