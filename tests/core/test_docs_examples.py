"""Every code example of the core documentation runs, and its assertions hold."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

DOCS = Path(__file__).parents[2] / "docs"
EXAMPLES = sorted(
    [*(DOCS / "examples" / "core").glob("*.py"), *(DOCS / "examples" / "plugins").glob("*.py")]
)


def test_examples_exist() -> None:
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs(path: Path) -> None:
    runpy.run_path(str(path), run_name="__main__")


def test_every_example_is_shown_in_the_docs() -> None:
    pages = "".join(p.read_text() for p in DOCS.rglob("*.md"))
    missing = [p.name for p in EXAMPLES if f"docs/examples/{p.parent.name}/{p.name}" not in pages]
    assert missing == []


def test_the_reference_page_documents_every_public_name_of_the_plugin_api() -> None:
    import airlock.plugins

    page = (DOCS / "reference.md").read_text()
    undocumented = [
        name
        for name in airlock.plugins.__all__
        if f"        - {name}\n" not in page and f"`{name}`" not in page
    ]
    assert undocumented == []


def test_the_reference_page_documents_every_name_airlock_exports() -> None:
    import airlock
    import airlock.errors

    page = (DOCS / "reference.md").read_text()
    assert "::: airlock.errors\n" in page  # the whole module, every error class
    undocumented = [
        name
        for name in airlock.__all__
        if name not in page and getattr(airlock, name) is not getattr(airlock.errors, name, None)
    ]
    assert undocumented == []
