"""The distribution a pushed release tag publishes (the release workflow's first step).

``release_tag.py airlock-celery-v0.2.0`` prints ``distribution=airlock-celery``
(a line for ``$GITHUB_OUTPUT``) when the checked-out ``airlock-celery`` holds
version 0.2.0; it fails when the tag names no distribution or another version,
so a mistyped tag publishes nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

from monorepo import ReleaseError, release_tag

ROOT = Path(__file__).resolve().parent.parent


def distribution_of(root: Path, tag: str) -> str:
    """The name of the distribution ``tag`` releases, checked against its version source."""
    distribution, version = release_tag(root, tag)
    if distribution.version != version:
        raise ReleaseError(
            f"tag {tag} says {version}, but {distribution.version_file.relative_to(root)}"
            f" says {distribution.version}: tag the release commit (nox -s release makes both)."
        )
    return distribution.name


def main(argv: list[str]) -> int:
    """Command line: ``release_tag.py <tag>``."""
    if len(argv) != 1:
        print("usage: release_tag.py <distribution>-v<version>", file=sys.stderr)
        return 2
    try:
        print(f"distribution={distribution_of(ROOT, argv[0])}")
    except ReleaseError as error:
        print(f"release tag refused: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
