"""Open the built documentation site in a real browser, page by page (``nox -s docs``).

    python tools/site_check.py [SITE_DIR] [--browser /usr/bin/chromium]

The browser defaults to ``$AIRLOCK_DOCS_BROWSER``, else ``/usr/bin/chromium``
(GitHub's Ubuntu runners have Google Chrome at ``/usr/bin/google-chrome`` instead).

Serves SITE_DIR (default ``site/``) on loopback and opens it in headless Chromium (Debian's
``chromium`` package), driven by Playwright. Starting from the home page, it visits every
page of the navigation and fails, naming the page, on:

- a console error or an uncaught exception;
- a request that leaves the machine (the site must work offline) or that fails;
- a link to a page of the site that does not exist, or to an anchor that page lacks;
- a Mermaid diagram that does not turn into a drawing (an ``svg``).

Exit status 0 when every page holds, 1 otherwise (each problem on its own line).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import os
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag

from playwright.sync_api import (
    ConsoleMessage,
    Error,
    Page,
    Request,
    Response,
    Route,
    sync_playwright,
)

ROOT = Path(__file__).resolve().parents[1]
BROWSER = os.environ.get("AIRLOCK_DOCS_BROWSER", "/usr/bin/chromium")
#: Bound on loading one page, in milliseconds.
PAGE_TIMEOUT_MS = 30_000
#: Bound on drawing one page's diagrams once it has loaded (they take well under a second).
DIAGRAM_TIMEOUT_MS = 10_000

#: mkdocs-material draws a diagram into a closed shadow root; the check opens it to look.
OPEN_SHADOW_ROOTS = """
const attachShadow = Element.prototype.attachShadow;
Element.prototype.attachShadow = function (init) {
  return attachShadow.call(this, { ...init, mode: "open" });
};
"""

#: What the check reads from each page once it has loaded: its links, its diagrams.
READ_PAGE = """
() => ({
  links: [...document.querySelectorAll("a[href]")].map((a) => a.href),
  diagrams: [...document.querySelectorAll("div.mermaid")].map((d) => {
    const svg = d.shadowRoot && d.shadowRoot.querySelector("svg");
    return svg ? { drawn: svg.getBoundingClientRect().height > 0,
                   text: svg.textContent } : null;
  }),
})
"""

NAV_LINKS = (
    "() => [...document.querySelectorAll('.md-nav--primary a.md-nav__link[href]')]"
    ".map((a) => a.href)"
)


class _Ids(HTMLParser):
    """What one HTML page holds as served, before any script runs.

    Every ``id`` (and ``<a name>``), the anchors a link may name; and how many Mermaid
    diagrams the page holds.
    """

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.diagrams = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and (name == "id" or (tag == "a" and name == "name")):
                self.ids.add(value)
            if name == "class" and value and "mermaid" in value.split():
                self.diagrams += 1


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """The check reports what matters; no access log."""


@contextmanager
def serve(site: Path) -> Iterator[str]:
    """``site`` over HTTP on 127.0.0.1 (a free port), for the duration of the block."""
    handler = functools.partial(_Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class SiteCheck:
    """Visits the pages of one served site and collects what is wrong, by page."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.problems: list[str] = []
        self.outside: list[str] = []  # requests that left the site, set by the route
        self.visited: list[str] = []
        self._pages: dict[str, _Ids | None] = {}

    def name(self, url: str) -> str:
        """A page's name in messages: its path within the site."""
        return "/" + url.removeprefix(self.base)

    def on_site(self, url: str) -> bool:
        """Whether ``url`` is a page or file of the served site."""
        return url.startswith(self.base)

    def served(self, url: str) -> _Ids | None:
        """What the site's page at ``url`` holds as served, or None when there is no such page."""
        if url not in self._pages:
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    body = response.read().decode("utf-8", errors="replace")
                    html = response.headers.get_content_type() == "text/html"
            except urllib.error.URLError:
                self._pages[url] = None
            else:
                parser = _Ids()
                if html:
                    parser.feed(body)
                self._pages[url] = parser
        return self._pages[url]

    def check_links(self, page: str, links: list[str]) -> None:
        """Each link of ``page`` into the site leads to a page, and to an anchor it has."""
        for link in sorted(set(links)):
            if not self.on_site(link):
                continue  # another site: not reachable from here, and not ours to check
            target, anchor = urldefrag(link)
            served = self.served(target)
            if served is None:
                self.problems.append(f"{self.name(page)}: broken link to {self.name(target)}")
            elif anchor and anchor not in served.ids:
                self.problems.append(
                    f"{self.name(page)}: broken anchor {self.name(target)}#{anchor}"
                )

    def visit(self, page: Page, url: str) -> list[str]:
        """Open one page and check it; returns the links it holds."""
        where = self.name(url)
        found: list[str] = []
        self.outside.clear()
        self.visited.append(url)

        def console(message: ConsoleMessage) -> None:
            if message.type == "error":
                found.append(f"{where}: console error: {message.text}")

        def failed(request: Request) -> None:
            # ERR_ABORTED: the next page was opened before this request ended.
            if self.on_site(request.url) and request.failure != "net::ERR_ABORTED":
                found.append(f"{where}: {self.name(request.url)} failed: {request.failure}")

        def answered(response: Response) -> None:
            if self.on_site(response.url) and response.status >= 400:
                found.append(f"{where}: {self.name(response.url)} answered {response.status}")

        def crashed(error: Error) -> None:
            found.append(f"{where}: uncaught {error.name}: {error.message}")

        page.on("console", console)
        page.on("requestfailed", failed)
        page.on("response", answered)
        page.on("pageerror", crashed)
        try:
            page.goto(url, wait_until="load", timeout=PAGE_TIMEOUT_MS)
            served = self.served(url)
            expected = served.diagrams if served else 0
            if expected:
                with contextlib.suppress(Error):  # what is not drawn is reported below
                    page.wait_for_function(
                        f"() => document.querySelectorAll('div.mermaid').length >= {expected}",
                        timeout=DIAGRAM_TIMEOUT_MS,
                    )
            seen = page.evaluate(READ_PAGE)
        finally:
            page.remove_listener("console", console)
            page.remove_listener("requestfailed", failed)
            page.remove_listener("response", answered)
            page.remove_listener("pageerror", crashed)
        if len(seen["diagrams"]) < expected:
            undrawn = expected - len(seen["diagrams"])
            found.append(f"{where}: {undrawn} of {expected} Mermaid diagram(s) never drawn")
        for number, diagram in enumerate(seen["diagrams"], 1):
            if diagram is None or not diagram["drawn"]:
                found.append(f"{where}: Mermaid diagram {number} has no drawing (svg)")
            elif "Syntax error" in diagram["text"]:
                found.append(f"{where}: Mermaid diagram {number} has a syntax error")
        found += [f"{where}: requested {u} (the site must work offline)" for u in self.outside]
        self.problems += found
        links: list[str] = seen["links"]
        return links


def check(site: Path, browser: str) -> tuple[list[str], int]:
    """Every problem of the site at ``site``, each naming its page; and the pages visited."""
    if not (site / "index.html").is_file():
        return [f"{site}: no built site here (nox -s docs builds it)"], 0
    if not Path(browser).is_file():
        return [
            f"no browser at {browser}: install Debian's chromium (apt-get install chromium;"
            " .ci/services.sh does)"
        ], 0
    with serve(site) as base, sync_playwright() as playwright:
        checker = SiteCheck(base)
        chromium = playwright.chromium.launch(executable_path=browser, headless=True)
        try:
            context = chromium.new_context()
            context.add_init_script(OPEN_SHADOW_ROOTS)

            def offline(route: Route) -> None:
                if checker.on_site(route.request.url) or route.request.url.startswith("data:"):
                    route.continue_()
                else:
                    checker.outside.append(route.request.url)
                    route.abort()

            context.route("**/*", offline)
            page = context.new_page()
            checker.check_links(base, checker.visit(page, base))
            navigation = [urldefrag(u)[0] for u in page.evaluate(NAV_LINKS)]
            for url in dict.fromkeys(u for u in navigation if u != base):
                checker.check_links(url, checker.visit(page, url))
        finally:
            chromium.close()
    if len(checker.visited) < 2:
        checker.problems.append("the home page has no navigation to follow")
    return checker.problems, len(checker.visited)


def main(argv: list[str] | None = None) -> int:
    """Check the site; print each problem, and a summary line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("site", nargs="?", type=Path, default=ROOT / "site")
    parser.add_argument("--browser", default=BROWSER, help=f"Chromium to use ({BROWSER})")
    args = parser.parse_args(argv)
    problems, pages = check(args.site, args.browser)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"site check: {len(problems)} problem(s) in {pages} page(s)", file=sys.stderr)
        return 1
    print(f"site check: {pages} pages, no console error, broken link or undrawn diagram")
    return 0


if __name__ == "__main__":
    sys.exit(main())
