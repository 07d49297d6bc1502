"""nox -s release -- <distribution> <version>, run for real in a clone of the repository."""

from __future__ import annotations

import datetime
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from monorepo import REPOSITORY_URL, find
from packaging.version import Version

# A release builds a wheel and an sdist in fresh build environments.
pytestmark = pytest.mark.timeout(600)


def next_minor(version: Version) -> Version:
    """The next minor version (0.1.3 -> 0.2.0)."""
    return Version(f"{version.major}.{version.minor + 1}.0")


def wheel_metadata(wheel: Path) -> dict[str, list[str]]:
    """The METADATA fields of a wheel, each with all its values."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        message = Parser().parsestr(archive.read(name).decode())
    return {key: message.get_all(key) or [] for key in set(message.keys())}


def release_core_floor(clone) -> None:
    """Mark the integrations' airlock-core floor as released (its tag), as a release would."""
    floor = find(clone.path, "airlock-rq").core_floor
    clone.git("tag", f"airlock-core-v{floor}")


def test_release_one_integration(clone):
    rq = find(clone.path, "airlock-rq")
    version = next_minor(rq.version)
    clone.write("airlock-rq/changelog.d/+retry.fixed.md", "A job retried by RQ keeps its scope.\n")
    clone.write("airlock-rq/changelog.d/+batch.added.md", "Batches of any size.\n")
    clone.commit("Two notes for airlock-rq")
    release_core_floor(clone)
    before = clone.head()
    dist = clone.path / "dist"

    done = clone.nox("-s", "release", "--", "airlock-rq", str(version))

    assert done.returncode == 0, done.stdout + done.stderr
    tag = f"airlock-rq-v{version}"
    assert clone.git("log", "-1", "--format=%s").strip() == f"Release airlock-rq {version}"
    assert clone.git("rev-parse", "HEAD~1").strip() == before
    assert clone.git("rev-parse", f"{tag}^{{commit}}").strip() == clone.head()
    assert clone.git("cat-file", "-t", tag).strip() == "tag"  # annotated
    touched = clone.git("show", "--name-only", "--format=", "HEAD").split()
    assert touched
    assert all(path.startswith("airlock-rq/") for path in touched), touched
    assert clone.status() == ""

    assert find(clone.path, "airlock-rq").version == version
    assert f'__version__ = "{version}"' in rq.version_file.read_text()

    wheel = dist / f"airlock_rq-{version}-py3-none-any.whl"
    sdist = dist / f"airlock_rq-{version}.tar.gz"
    assert sorted(dist.iterdir()) == sorted([wheel, sdist])
    metadata = wheel_metadata(wheel)
    assert metadata["Name"] == ["airlock-rq"]
    assert metadata["Version"] == [str(version)]
    assert f"airlock-core>={rq.core_floor}" in metadata["Requires-Dist"]
    with tarfile.open(sdist) as archive:
        pkg_info = archive.extractfile(f"airlock_rq-{version}/PKG-INFO")
        assert pkg_info is not None
        assert f"\nVersion: {version}\n" in pkg_info.read().decode()
    assert "PASSED" in done.stdout

    changelog = (clone.path / "airlock-rq/CHANGELOG.md").read_text()
    heading = f"## [{version}]({REPOSITORY_URL}/tree/{tag}) - {datetime.date.today():%Y-%m-%d}"
    assert heading in changelog
    section = changelog[changelog.index(heading) :]
    assert section.index("### Added") < section.index("- Batches of any size.")
    assert section.index("### Fixed") < section.index("- A job retried by RQ keeps its scope.")
    assert sorted(p.name for p in (clone.path / "airlock-rq/changelog.d").iterdir()) == [".gitkeep"]


def test_first_release_of_a_new_distribution(clone):
    """A new airlock-* folder is released with no edit of the tooling, at the version it has."""
    rq = clone.path / "airlock-rq"
    pyproject = (rq / "pyproject.toml").read_text().replace("airlock_rq", "airlock_sample")
    clone.write("airlock-sample/pyproject.toml", pyproject.replace("airlock-rq", "airlock-sample"))
    clone.write(
        "airlock-sample/src/airlock_sample/__init__.py",
        '"""A sample integration."""\n\n__version__ = "0.1.0"\n',
    )
    clone.write("airlock-sample/src/airlock_sample/plugin.py", '"""Its plugin."""\n')
    clone.write("airlock-sample/README.md", "# airlock-sample\n\nA sample integration.\n")
    changelog = (rq / "CHANGELOG.md").read_text().replace("airlock-rq", "airlock-sample")
    clone.write("airlock-sample/CHANGELOG.md", changelog)
    clone.write("airlock-sample/changelog.d/+first.added.md", "The first release.\n")
    clone.commit("A new distribution, airlock-sample")
    release_core_floor(clone)

    done = clone.nox("-s", "release", "--", "airlock-sample", "0.1.0")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "airlock-sample-v0.1.0" in clone.tags()
    assert clone.git("log", "-1", "--format=%s").strip() == "Release airlock-sample 0.1.0"
    built = sorted(p.name for p in (clone.path / "dist").iterdir())
    assert built == ["airlock_sample-0.1.0-py3-none-any.whl", "airlock_sample-0.1.0.tar.gz"]
    notes = (clone.path / "airlock-sample/CHANGELOG.md").read_text()
    assert "## [0.1.0](" in notes
    assert "- The first release." in notes


def refused(clone, *args: str) -> str:
    """Run a release that must be refused; check it changed nothing; return its message."""
    before = (clone.head(), clone.status(), clone.tags())
    done = clone.nox("-s", "release", "--", *args)
    assert done.returncode != 0, done.stdout
    assert (clone.head(), clone.status(), clone.tags()) == before
    assert not (clone.path / "dist").exists()
    output = done.stdout + done.stderr  # nox passes the tool's stderr on with its stdout
    assert "release refused:" in output, output
    return output


def test_refuses_a_dirty_tree(clone):
    release_core_floor(clone)
    rq = find(clone.path, "airlock-rq")
    readme = clone.path / "airlock-rq/README.md"
    readme.write_text(readme.read_text() + "\nAn edit not committed.\n")
    message = refused(clone, "airlock-rq", str(next_minor(rq.version)))
    assert "the work tree is not clean" in message
    assert "airlock-rq/README.md" in message


def test_refuses_an_untracked_file(clone):
    release_core_floor(clone)
    clone.write("airlock-rq/changelog.d/+forgotten.fixed.md", "Not added to git.\n")
    message = refused(clone, "airlock-rq", str(next_minor(find(clone.path, "airlock-rq").version)))
    assert "the work tree is not clean" in message
    assert "+forgotten.fixed.md" in message


def test_refuses_an_unknown_distribution(clone):
    message = refused(clone, "airlock-nope", "1.0.0")
    assert "unknown distribution 'airlock-nope'" in message
    assert "choose one of airlock-celery, airlock-core" in message


def test_refuses_a_version_that_is_not_a_version(clone):
    message = refused(clone, "airlock-rq", "soon")
    assert "'soon' is not a version" in message


def test_refuses_a_lower_version(clone):
    release_core_floor(clone)
    rq = find(clone.path, "airlock-rq")
    rq.set_version(Version("1.4.0"))
    clone.commit("airlock-rq at 1.4.0")
    message = refused(clone, "airlock-rq", "1.3.9")
    assert "airlock-rq 1.3.9 is not greater than the current version 1.4.0" in message
    assert "airlock-rq/src/airlock_rq/__init__.py" in message


def test_refuses_the_current_version_once_released(clone):
    release_core_floor(clone)
    current = find(clone.path, "airlock-rq").version
    clone.git("tag", f"airlock-rq-v{current}")
    message = refused(clone, "airlock-rq", str(current))
    assert f"is not greater than the current version {current}" in message
    assert f"released as airlock-rq-v{current}" in message


def test_refuses_an_integration_before_any_core_release(clone):
    rq = find(clone.path, "airlock-rq")
    message = refused(clone, "airlock-rq", str(next_minor(rq.version)))
    assert f"airlock-rq declares airlock-core>={rq.core_floor}" in message
    assert "airlock-core has no release yet" in message


def set_core_floor(clone, floor: str) -> None:
    """Give every integration the airlock-core floor ``floor`` and commit it."""
    for pyproject in clone.path.glob("airlock-*/pyproject.toml"):
        text = pyproject.read_text()
        current = find(clone.path, pyproject.parent.name).core_floor
        if current is not None:
            pyproject.write_text(text.replace(f"airlock-core>={current}", f"airlock-core>={floor}"))
    clone.commit(f"Integrations need airlock-core {floor}")


def test_refuses_a_floor_above_the_newest_released_core(clone):
    clone.git("tag", "airlock-core-v0.1.0")
    set_core_floor(clone, "0.2.0")
    message = refused(clone, "airlock-rq", "9.0.0")
    assert "airlock-rq declares airlock-core>=0.2.0" in message
    assert "above the newest released airlock-core 0.1.0" in message


def test_refuses_a_floor_that_names_an_unreleased_core(clone):
    clone.git("tag", "airlock-core-v0.1.0")
    clone.git("tag", "airlock-core-v0.3.0")
    set_core_floor(clone, "0.2.0")
    message = refused(clone, "airlock-rq", "9.0.0")
    assert "airlock-core 0.2.0 was never released (released: 0.1.0, 0.3.0)" in message
