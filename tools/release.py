"""Release one distribution: ``nox -s release -- <distribution> <version>``.

From a clean work tree, and only when the version is greater than the current
one (or is the current one, never released yet) and the distribution's
airlock-core floor is a released airlock-core, it:

1. writes the version into the distribution's one version source (``__version__``);
2. moves the unreleased notes (``changelog.d/``) under the version's heading in
   ``CHANGELOG.md`` with towncrier;
3. commits that as "Release <distribution> <version>" and tags it
   ``<distribution>-v<version>``;
4. builds that distribution's wheel and sdist into ``dist/`` and runs
   ``twine check --strict`` on them.

It changes nothing outside the distribution's folder (``dist/`` is build output).
Pushing the tag is left to the releaser: the release workflow publishes it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from core_floor import check_released
from monorepo import Distribution, ReleaseError, find, git, released_versions

ROOT = Path(__file__).resolve().parent.parent


def check_clean(root: Path) -> None:
    """Refuse a work tree with changes or untracked files: they would leak into the release."""
    status = git(root, "status", "--porcelain", "--untracked-files=all").splitlines()
    if status:
        listed = "\n  ".join(status[:10])
        raise ReleaseError(f"the work tree is not clean; commit or stash these first:\n  {listed}")


def check_version(root: Path, distribution: Distribution, version: Version) -> None:
    """Refuse a version that is not greater than the current one.

    The current version may itself be released once, while it has no tag (the
    first release of a distribution keeps the version the tree already has).
    """
    current = distribution.version
    released = current in released_versions(root, distribution.name)
    if version > current or (version == current and not released):
        return
    raise ReleaseError(
        f"{distribution.name} {version} is not greater than the current version {current}"
        f"{' (released as ' + distribution.tag(current) + ')' if released else ''}"
        f" in {distribution.version_file.relative_to(root)}: choose a greater version."
    )


def release(root: Path, name: str, version_text: str) -> list[Path]:
    """Release ``name`` at ``version_text``; return the built wheel and sdist."""
    distribution = find(root, name)
    try:
        version = Version(version_text)
    except InvalidVersion:
        raise ReleaseError(f"{version_text!r} is not a version (PEP 440), e.g. 1.2.0.") from None
    check_clean(root)
    check_version(root, distribution, version)
    check_released(root, distribution)
    folder = distribution.folder.relative_to(root)
    tag = distribution.tag(version)

    distribution.set_version(version)
    _run(root, "towncrier build", "--yes", "--dir", str(folder), "--version", str(version))
    git(root, "add", "--all", "--", str(folder))
    git(root, "commit", "--quiet", "--message", f"Release {name} {version}", "--", str(folder))
    git(root, "tag", "--annotate", tag, "--message", f"{name} {version}")

    outdir = root / "dist"
    _run(root, "build", "--installer", "uv", "--outdir", str(outdir), str(folder))
    stem = f"{canonicalize_name(name).replace('-', '_')}-{version}"
    built = [outdir / f"{stem}-py3-none-any.whl", outdir / f"{stem}.tar.gz"]
    _run(root, "twine check", "--strict", *map(str, built))
    return built


def _run(root: Path, step: str, *args: str) -> None:
    """Run one release step (``python -m <step>``); its failure stops the release."""
    command = [sys.executable, "-m", *step.split(), *args]
    if subprocess.run(command, cwd=root, check=False).returncode != 0:
        raise ReleaseError(f"{step} failed (its output is above).")


def _state(root: Path) -> tuple[str, str]:
    """The commit checked out and the work tree's status, to tell what a failed release left."""
    return git(root, "rev-parse", "HEAD").strip(), git(root, "status", "--porcelain")


def _outcome(root: Path, before: tuple[str, str], tag: str) -> str:
    """Say "refused" when nothing changed, else "failed" and how to undo what was done."""
    head, status = _state(root)
    if head != before[0]:
        return f"failed after its commit (undo: git tag -d {tag}; git reset --hard {before[0]})"
    if status != before[1]:
        return "failed midway (undo: git reset --hard HEAD)"
    return "refused"


def main(argv: list[str] | None = None) -> int:
    """Command line: ``release.py <distribution> <version>``; non-zero exit on any refusal."""
    parser = argparse.ArgumentParser(
        prog="nox -s release --", description="Release one distribution of the monorepo."
    )
    parser.add_argument("distribution", help="e.g. airlock-celery")
    parser.add_argument("version", help="e.g. 0.2.0")
    arguments = parser.parse_args(argv)
    tag = f"{arguments.distribution}-v{arguments.version}"
    before = _state(ROOT)
    try:
        built = release(ROOT, arguments.distribution, arguments.version)
    except ReleaseError as error:
        print(f"release {_outcome(ROOT, before, tag)}: {error}", file=sys.stderr)
        return 1
    print(f"Released {arguments.distribution} {arguments.version}: commit and tag {tag}")
    for path in built:
        print(f"  {path.relative_to(ROOT)}")
    print(f"Publish it: git push origin HEAD {tag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
