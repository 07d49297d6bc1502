"""A change to a distribution's ``src/`` comes with a news fragment: ``nox -s changelog``.

The change is everything since the base ref (its merge base with HEAD): commits,
staged and unstaged edits and new files. The base is ``$AIRLOCK_CHANGELOG_BASE``
(CI sets it to the pull request's base branch), else ``origin/main``; when
neither exists, or nothing changed since the base (a clean clone of main),
there is nothing to compare and the check says so and passes.

A distribution whose ``src/`` changed needs a new or edited file in its
``changelog.d/`` (or an edited ``CHANGELOG.md``, as a release makes). A change
that users need not hear about (a refactoring, a typo) says so with the commit
trailer ``Changelog: skip`` on one of its commits.

Every fragment of every distribution is also rendered with ``towncrier build
--draft``, which rejects a fragment whose name towncrier cannot read, so a
release never stumbles on one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from monorepo import Distribution, ReleaseError, distributions, git

ROOT = Path(__file__).resolve().parent.parent
BASE_VARIABLE = "AIRLOCK_CHANGELOG_BASE"
DEFAULT_BASE = "origin/main"
SKIP_TRAILER = "Changelog"
SKIP_VALUE = "skip"


def base_commit(root: Path) -> tuple[str | None, str]:
    """The merge base to compare with and the base's name, or None and why there is none."""
    explicit = os.environ.get(BASE_VARIABLE, "").strip()
    base = explicit or DEFAULT_BASE
    found = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode != 0:
        if explicit:
            raise ReleaseError(f"{BASE_VARIABLE}={explicit!r} names no commit here.")
        return None, f"there is no {DEFAULT_BASE} here (set {BASE_VARIABLE} to compare with a ref)"
    return git(root, "merge-base", base, "HEAD").strip(), base


def changed_files(root: Path, merge_base: str) -> set[str]:
    """Files changed since ``merge_base``: committed, staged, unstaged, or new and untracked."""
    tracked = git(root, "diff", "--name-only", "--no-renames", merge_base).splitlines()
    untracked = git(root, "ls-files", "--others", "--exclude-standard").splitlines()
    return set(tracked) | set(untracked)


def skipped(root: Path, merge_base: str) -> bool:
    """Whether a commit since ``merge_base`` carries the trailer ``Changelog: skip``."""
    values = git(
        root, "log", f"--format=%(trailers:key={SKIP_TRAILER},valueonly)", f"{merge_base}..HEAD"
    )
    return any(line.strip().lower() == SKIP_VALUE for line in values.splitlines())


def source_changed(root: Path, changed: set[str]) -> list[Distribution]:
    """The distributions with a changed file under their ``src/``."""
    return [
        distribution
        for distribution in distributions(root)
        if any(path.startswith(f"{_folder(root, distribution)}/src/") for path in changed)
    ]


def has_notes(root: Path, distribution: Distribution, changed: set[str]) -> bool:
    """Whether a fragment of ``distribution`` (or its CHANGELOG.md) is among ``changed``."""
    folder = _folder(root, distribution)
    return any(
        (path.startswith(f"{folder}/changelog.d/") or path == f"{folder}/CHANGELOG.md")
        and (root / path).is_file()
        for path in changed
    )


def _folder(root: Path, distribution: Distribution) -> str:
    """The distribution's folder, relative to the repository, as git writes paths."""
    return distribution.folder.relative_to(root).as_posix()


def render_all(root: Path) -> list[str]:
    """Render each distribution's unreleased notes; return the names towncrier rejects."""
    failed = []
    for distribution in distributions(root):
        fragments = distribution.folder / "changelog.d"
        if not fragments.is_dir():
            print(f"{distribution.name}: no changelog.d/ (see CONTRIBUTING.md, new distributions)")
            failed.append(distribution.name)
            continue
        if not any(p.name != ".gitkeep" for p in fragments.iterdir()):
            continue
        draft = ["build", "--draft", "--version", f"{distribution.version}+unreleased"]
        done = subprocess.run(
            [sys.executable, "-m", "towncrier", *draft, "--dir", str(distribution.folder)],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            print(f"{distribution.name}: towncrier cannot render changelog.d/:\n{done.stderr}")
            failed.append(distribution.name)
    return failed


def check(root: Path) -> int:
    """Run the whole check; print what it found; return the exit status."""
    unreadable = render_all(root)
    merge_base, about = base_commit(root)
    if merge_base is None:
        print(f"changelog: nothing to compare, {about}; fragments render.")
        return 1 if unreadable else 0
    changed = changed_files(root, merge_base)
    if not changed:
        print(f"changelog: nothing to compare, no change since {about}; fragments render.")
        return 1 if unreadable else 0
    touched = source_changed(root, changed)
    missing = [d for d in touched if not has_notes(root, d, changed)]
    if missing and skipped(root, merge_base):
        print(f"changelog: {SKIP_TRAILER}: {SKIP_VALUE} on a commit since {about}; not required.")
        missing = []
    for distribution in missing:
        folder = _folder(root, distribution)
        print(
            f"changelog: {folder}/src/ changed since {about}, but {folder}/changelog.d/ has no"
            f" new fragment. Add one, e.g.\n"
            f'  towncrier create --dir {folder} --content "What changed, for users."'
            " +name.fixed.md\n"
            f"or, for a change users need not hear about, end a commit message with the trailer"
            f" '{SKIP_TRAILER}: {SKIP_VALUE}'."
        )
    if not touched:
        print(f"changelog: no distribution's src/ changed since {about}.")
    elif not missing:
        names = ", ".join(d.name for d in touched)
        print(f"changelog: changed since {about}, each with its notes: {names}.")
    return 1 if missing or unreadable else 0


def main() -> int:
    """Command line entry point (``nox -s changelog``)."""
    try:
        return check(ROOT)
    except ReleaseError as error:
        print(f"changelog: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
