"""tools/site_check.py in a real headless Chromium, on small sites made here.

It follows the navigation, and names the page of each console error, broken link, broken
anchor, request off the machine and undrawn Mermaid diagram. nox -s docs runs these tests
(its environment has Playwright), then the check on the real site.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

NAV = """<nav class="md-nav md-nav--primary">
  <a class="md-nav__link" href="/">Home</a>
  <a class="md-nav__link" href="/guide/">Guide</a>
  <a class="md-nav__link" href="/more/">More</a>
</nav>"""

#: A diagram drawn the way mkdocs-material draws one: an svg in a shadow root.
DRAWN = """<div id="d"></div><script>
  const root = document.getElementById("d");
  root.className = "mermaid";
  root.attachShadow({mode: "closed"}).innerHTML =
    '<svg width="100" height="40"><text x="5" y="20">drawn</text></svg>';
</script>"""


def make_site(tmp_path: Path, pages: dict[str, str]) -> Path:
    """A site of one page per entry (path: body), each with the same navigation."""
    site = tmp_path / "site"
    for path, body in pages.items():
        page = site / path / "index.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f"<!doctype html><html><body>{NAV}<h1 id='top'>{path}</h1>{body}"
                        "</body></html>")  # fmt: skip
    return site


def site_check(site: Path) -> subprocess.CompletedProcess[str]:
    """Run the check on ``site`` as nox -s docs does, with a bounded wait."""
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "site_check.py"), str(site)],
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_a_clean_site_passes(tmp_path: Path) -> None:
    """Links and anchors that exist, a drawn diagram, a link elsewhere (not followed)."""
    site = make_site(
        tmp_path,
        {
            "": '<a href="/guide/#top">guide</a>',
            "guide": DRAWN + '<a href="../more/">more</a> <a href="https://example.org/">out</a>',
            "more": '<a href="#top">up</a>',
        },
    )
    result = site_check(site)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "site check: 3 pages, no console error, broken link or undrawn diagram\n"
    )


def test_each_problem_is_named_with_its_page(tmp_path: Path) -> None:
    """Every kind of problem, each on the page it is on; exit status 1."""
    site = make_site(
        tmp_path,
        {
            "": '<script>console.error("boom")</script>',
            "guide": '<a href="/nowhere/">gone</a> <a href="/more/#no-such">anchor</a>'
            '<pre class="mermaid">graph LR; a-->b</pre>',
            "more": '<img src="https://example.org/pixel.png">',
        },
    )
    result = site_check(site)
    assert result.returncode == 1
    problems = result.stderr.splitlines()
    assert "/: console error: boom" in problems
    assert "/guide/: broken link to /nowhere/" in problems
    assert "/guide/: broken anchor /more/#no-such" in problems
    assert "/guide/: 1 of 1 Mermaid diagram(s) never drawn" in problems
    assert "/more/: requested https://example.org/pixel.png (the site must work offline)" in (
        problems
    )
    assert problems[-1].startswith("site check: ")
    assert problems[-1].endswith(" problem(s) in 3 page(s)")


def test_a_missing_site_is_named(tmp_path: Path) -> None:
    """No site built: said so, exit status 1."""
    result = site_check(tmp_path / "site")
    assert result.returncode == 1
    assert f"{tmp_path / 'site'}: no built site here (nox -s docs builds it)" in result.stderr
