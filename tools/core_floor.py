"""The airlock-core an integration declares as its floor, and where the oldest stack gets it.

Each integration declares the lowest airlock-core it works with
(``airlock-core>=X``). The oldest test stack runs each integration's suite on
that airlock-core: built from its release tag (``airlock-core-vX``) once the tag
exists, and until then on the tree's airlock-core, which stands in for the
floor. airlock-core's own suites always run on the tree's airlock-core.

The integrations are installed side by side, so they share one floor.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from packaging.version import Version

from monorepo import CORE, Distribution, ReleaseError, distributions, released_versions


@dataclass(frozen=True)
class CoreChoice:
    """How to install airlock-core for one test run, and why."""

    install_args: list[str]
    reason: str


def shared_floor(root: Path) -> Version | None:
    """The one airlock-core floor every integration declares (None if none declares one)."""
    floors = {d.name: floor for d in distributions(root) if (floor := d.core_floor) is not None}
    if len(set(floors.values())) > 1:
        declared = ", ".join(f"{name} airlock-core>={floor}" for name, floor in floors.items())
        raise ReleaseError(
            f"the integrations declare different airlock-core floors ({declared}); the oldest"
            " stack installs them together, so give them one floor."
        )
    return next(iter(floors.values()), None)


def check_released(root: Path, distribution: Distribution) -> None:
    """Refuse a floor that names an airlock-core nobody can install from PyPI."""
    floor = distribution.core_floor
    if floor is None:
        return
    released = released_versions(root, CORE)
    wanted = f"{distribution.name} declares airlock-core>={floor}"
    if not released:
        raise ReleaseError(
            f"{wanted}, but airlock-core has no release yet (no tag {CORE}-v*):"
            f" release airlock-core {floor} first."
        )
    if floor > released[-1]:
        raise ReleaseError(
            f"{wanted}, above the newest released airlock-core {released[-1]}:"
            f" release airlock-core {floor} first, or lower the floor."
        )
    if floor not in released:
        listed = ", ".join(str(v) for v in released)
        raise ReleaseError(
            f"{wanted}, but airlock-core {floor} was never released (released: {listed}):"
            " set the floor to a released version."
        )


def integration_of(root: Path, target: str) -> Distribution | None:
    """The integration whose suite ``target`` is in (``tests/celery/...`` -> airlock-celery)."""
    parts = PurePosixPath(target.replace("\\", "/")).parts
    if len(parts) < 2 or parts[0] != "tests":
        return None
    for distribution in distributions(root):
        if distribution.name != CORE and _key(distribution.name) == _key(f"airlock-{parts[1]}"):
            return distribution
    return None


def choose(root: Path, targets: list[str], workdir: Path) -> CoreChoice:
    """The airlock-core the oldest stack installs to run ``targets`` (suites or pytest args)."""
    integrations = [d for t in targets if (d := integration_of(root, t)) is not None]
    if not integrations:
        paths = [t for t in targets if (root / t.split("::")[0]).exists()]
        named = " ".join(paths) or "these tests"
        return CoreChoice(["-e", CORE], f"{named}: the tree's airlock-core")
    floor = shared_floor(root)
    names = ", ".join(sorted({d.name for d in integrations}))
    if floor is None or floor not in released_versions(root, CORE):
        return CoreChoice(
            ["-e", CORE],
            f"{names}: airlock-core {floor} (the floor) has no release tag yet;"
            " the tree's airlock-core stands in for it",
        )
    tag = f"{CORE}-v{floor}"
    return CoreChoice(
        [str(extract(root, tag, workdir))], f"{names}: airlock-core {floor} from tag {tag}"
    )


def extract(root: Path, tag: str, workdir: Path) -> Path:
    """The airlock-core folder as ``tag`` has it, extracted once under ``workdir``."""
    target = workdir / tag
    if not (target / CORE / "pyproject.toml").exists():
        archive = subprocess.run(
            ["git", "archive", "--format=tar", tag, CORE], cwd=root, capture_output=True, check=True
        ).stdout
        workdir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=workdir))
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(staging, filter="data")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return target / CORE


def _key(name: str) -> str:
    """A name with its separators dropped (django-q, django_q and djangoq compare equal)."""
    return re.sub(r"[-_.]", "", name.lower())
