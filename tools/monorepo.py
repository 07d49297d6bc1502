"""What the release tooling knows about the monorepo, in one place.

Every ``airlock-*/`` folder with a ``pyproject.toml`` is a distribution; nothing
here names one, so a new distribution needs no edit of the tooling. The
project's public addresses live here too (the metadata tests hold every
pyproject and README to them).
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: nox and pytest bring tomli
    import tomli as tomllib

REPOSITORY_URL = "https://github.com/airlock-py/airlock"
DOCUMENTATION_URL = "https://airlock-py.github.io/airlock/"
CORE = "airlock-core"
TAG_SEPARATOR = "-v"

_VERSION_LINE = re.compile(r'^__version__ = "(?P<version>[^"]+)"$', re.MULTILINE)


class ReleaseError(Exception):
    """A release step cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class Distribution:
    """One published distribution: its folder, its metadata and its one version source."""

    folder: Path
    metadata: dict[str, Any]

    @property
    def name(self) -> str:
        """The distribution name, as on PyPI (``airlock-celery``)."""
        return str(self.metadata["project"]["name"])

    @property
    def version_file(self) -> Path:
        """The file hatchling reads the version from (``[tool.hatch.version] path``)."""
        try:
            relative = self.metadata["tool"]["hatch"]["version"]["path"]
        except KeyError:
            raise ReleaseError(
                f"{self.folder.name}/pyproject.toml has no [tool.hatch.version] path: declare"
                ' dynamic = ["version"] and point path at the __init__.py holding __version__.'
            ) from None
        return self.folder / str(relative)

    @property
    def version(self) -> Version:
        """The version written in the one version source."""
        match = _VERSION_LINE.search(self.version_file.read_text(encoding="utf-8"))
        if match is None:
            raise ReleaseError(f'{self.version_file} has no line __version__ = "<version>".')
        return Version(match["version"])

    def set_version(self, version: Version) -> None:
        """Write ``version`` into the one version source."""
        text = self.version_file.read_text(encoding="utf-8")
        new_text, count = _VERSION_LINE.subn(f'__version__ = "{version}"', text)
        if count != 1:
            raise ReleaseError(f"{self.version_file} must hold exactly one __version__ line.")
        self.version_file.write_text(new_text, encoding="utf-8")

    @property
    def core_floor(self) -> Version | None:
        """The lowest airlock-core this distribution declares (``airlock-core>=X``), if any."""
        for line in self.metadata["project"].get("dependencies", []):
            requirement = Requirement(line)
            if canonicalize_name(requirement.name) != CORE:
                continue
            floors = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
            if not floors:
                raise ReleaseError(
                    f"{self.name} depends on {line!r}: declare the lowest airlock-core it works"
                    " with as airlock-core>=X.Y.Z."
                )
            return max(floors)
        return None

    def tag(self, version: Version) -> str:
        """The release tag of ``version`` (``airlock-celery-v0.2.0``)."""
        return f"{self.name}{TAG_SEPARATOR}{version}"


def distributions(root: Path) -> list[Distribution]:
    """Every distribution of the monorepo, sorted by name."""
    found = []
    for pyproject in sorted(root.glob("airlock-*/pyproject.toml")):
        with pyproject.open("rb") as file:
            found.append(Distribution(pyproject.parent, tomllib.load(file)))
    return found


def find(root: Path, name: str) -> Distribution:
    """The distribution called ``name``, or a ReleaseError listing the known ones."""
    known = distributions(root)
    for distribution in known:
        if distribution.name == name:
            return distribution
    names = ", ".join(d.name for d in known)
    raise ReleaseError(f"unknown distribution {name!r}: choose one of {names}.")


def git(root: Path, *args: str) -> str:
    """Run git in ``root`` and return its output; a failure raises ReleaseError with git's words."""
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ReleaseError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def released_versions(root: Path, name: str) -> list[Version]:
    """The versions of ``name`` that have a release tag, oldest first."""
    prefix = f"{name}{TAG_SEPARATOR}"
    versions = []
    for tag in git(root, "tag", "--list", f"{prefix}*").split():
        try:
            versions.append(Version(tag.removeprefix(prefix)))
        except InvalidVersion:
            continue
    return sorted(versions)


def release_tag(root: Path, tag: str) -> tuple[Distribution, Version]:
    """The distribution and version a release tag names (``airlock-django-q-v1.0.0``)."""
    name, separator, version_text = tag.rpartition(TAG_SEPARATOR)
    if not separator:
        raise ReleaseError(f"{tag!r} is not a release tag: expected <distribution>-v<version>.")
    try:
        version = Version(version_text)
    except InvalidVersion:
        raise ReleaseError(f"{tag!r} does not end in a version.") from None
    return find(root, name), version
