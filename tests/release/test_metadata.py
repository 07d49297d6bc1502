"""Every distribution is ready for PyPI: one version source, standalone README, links, notes.

These read the tree under test and the installed distributions; every ``airlock-*/``
folder is held to the same rules (CONTRIBUTING.md, "Adding a distribution").
"""

from __future__ import annotations

import importlib
import importlib.metadata
import re
from pathlib import Path

import pytest
from core_floor import shared_floor
from monorepo import CORE, DOCUMENTATION_URL, REPOSITORY_URL, Distribution, distributions

ROOT = Path(__file__).resolve().parents[2]
DISTRIBUTIONS = distributions(ROOT)
MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


@pytest.fixture(params=DISTRIBUTIONS, ids=lambda d: d.name)
def distribution(request: pytest.FixtureRequest) -> Distribution:
    return request.param


def import_name(distribution: Distribution) -> str:
    """The import package whose ``__init__.py`` holds the version."""
    return distribution.version_file.relative_to(distribution.folder / "src").parts[0]


def test_every_folder_is_a_distribution():
    folders = sorted(p.name for p in ROOT.glob("airlock-*") if p.is_dir())
    assert [d.folder.name for d in DISTRIBUTIONS] == folders
    assert [d.name for d in DISTRIBUTIONS] == folders


def test_the_installed_version_is_the_package_s(distribution):
    module = importlib.import_module(import_name(distribution))
    assert importlib.metadata.version(distribution.name) == module.__version__
    assert str(distribution.version) == module.__version__


def test_the_version_has_one_source(distribution):
    project = distribution.metadata["project"]
    assert "version" not in project
    assert project["dynamic"] == ["version"]
    assert (
        distribution.version_file
        == distribution.folder / "src" / import_name(distribution) / "__init__.py"
    )


def test_project_urls(distribution):
    name = distribution.name
    urls = distribution.metadata["project"]["urls"]
    assert urls == {
        "Documentation": urls["Documentation"],
        "Changelog": f"{REPOSITORY_URL}/blob/main/{name}/CHANGELOG.md",
        "Source": f"{REPOSITORY_URL}/tree/main/{name}",
        "Issues": f"{REPOSITORY_URL}/issues",
    }
    assert urls["Documentation"].startswith(DOCUMENTATION_URL)
    assert_link_resolves(urls["Documentation"])


def test_classifiers(distribution):
    classifiers = distribution.metadata["project"]["classifiers"]
    supported = [f"Programming Language :: Python :: 3.{minor}" for minor in range(10, 14)]
    assert set(supported) <= set(classifiers)
    assert "Typing :: Typed" in classifiers
    assert any(c.startswith("Development Status :: ") for c in classifiers)
    assert classifiers == sorted(classifiers)
    assert (distribution.version_file.parent / "py.typed").exists()


def test_readme_stands_alone(distribution):
    assert distribution.metadata["project"]["readme"] == "README.md"
    readme = (distribution.folder / "README.md").read_text()
    assert f"pip install {distribution.name}" in readme
    links = MARKDOWN_LINK.findall(readme)
    assert links, "a README links to its documentation, changelog and source"
    for link in links:
        assert link.startswith("https://"), f"{distribution.name}/README.md: {link} is relative"
        assert_link_resolves(link)
    assert any(link.startswith(DOCUMENTATION_URL) for link in links)
    assert f"{REPOSITORY_URL}/blob/main/{distribution.name}/CHANGELOG.md" in links


def assert_link_resolves(link: str) -> None:
    """A link into our documentation or repository names a page or file that exists."""
    if link.startswith(DOCUMENTATION_URL):
        page = link.removeprefix(DOCUMENTATION_URL).split("#")[0].strip("/")
        candidates = [ROOT / "docs" / f"{page}.md", ROOT / "docs" / page / "index.md"]
        assert any(c.is_file() for c in candidates), f"{link}: no docs/{page}.md"
    for kind in ("blob", "tree"):
        prefix = f"{REPOSITORY_URL}/{kind}/main/"
        if link.startswith(prefix):
            path = ROOT / link.removeprefix(prefix).split("#")[0]
            assert path.exists(), f"{link}: no {path.relative_to(ROOT)} in the repository"


def test_changelog_is_fed_by_towncrier(distribution):
    towncrier = distribution.metadata["tool"]["towncrier"]
    assert towncrier["name"] == distribution.name
    assert (distribution.folder / towncrier["directory"]).is_dir()
    changelog = (distribution.folder / towncrier["filename"]).read_text()
    assert changelog.startswith("# Changelog\n")
    assert "[Keep a Changelog](https://keepachangelog.com/" in changelog
    assert towncrier["start_string"] in changelog
    assert towncrier["title_format"].startswith(f"## [{{version}}]({REPOSITORY_URL}/tree/")
    assert towncrier["ignore"] == []  # strict: towncrier rejects a misnamed fragment
    types = [t["directory"] for t in towncrier["type"]]
    assert types == ["added", "changed", "deprecated", "removed", "fixed", "security"]
    for link in MARKDOWN_LINK.findall(changelog):
        assert link.startswith("https://"), link


def test_ships_the_repository_s_license(distribution):
    assert distribution.metadata["project"]["license"] == "MIT"
    assert (distribution.folder / "LICENSE").read_text() == (ROOT / "LICENSE").read_text()


def test_registers_its_plugin(distribution):
    entry_points = distribution.metadata["project"]["entry-points"]["airlock"]
    assert entry_points, f"{distribution.name} registers a plugin in the 'airlock' group"


def test_integrations_declare_their_core_floor(distribution):
    if distribution.name == CORE:
        assert distribution.core_floor is None
    else:
        assert distribution.core_floor is not None, f"{distribution.name}: airlock-core>=X"


def test_integrations_share_one_core_floor():
    assert shared_floor(ROOT) is not None
