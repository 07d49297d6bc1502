"""mkdocs hooks (mkdocs.yml ``hooks:``): Mermaid diagrams render without a CDN.

mkdocs-material draws every ```` ```mermaid ```` fence with mermaid.js, which it loads
from a CDN unless the page already defines ``mermaid``. These hooks copy the mermaid.js
that the ``mermaidx`` package ships (docs/requirements.txt installs it) into the built
site, and each page with a diagram loads it: the site draws its diagrams offline.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import Any

#: Where the script lands in the built site.
MERMAID_JS = "assets/javascripts/mermaid.min.js"


def packaged_mermaid() -> Path:
    """The mermaid.js in the installed ``mermaidx`` package (not imported: only its files)."""
    spec = importlib.util.find_spec("mermaidx")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        script = Path(location) / "assets" / "mermaid.js"
        if script.is_file():
            return script
    raise FileNotFoundError(
        "mermaid.js not found in the mermaidx package: install the docs' requirements"
        " (pip install -r docs/requirements.txt)"
    )


def on_config(config: Any) -> Any:
    """Fail the build at once when the packaged mermaid.js is missing."""
    packaged_mermaid()
    return config


def on_post_page(output: str, page: Any, config: Any) -> str:
    """A page with a diagram loads the packaged mermaid.js; mkdocs-material then uses it."""
    if 'class="mermaid"' not in output:
        return output
    script = f'<script src="{"../" * page.url.count("/")}{MERMAID_JS}"></script>'
    return output.replace("</body>", f"{script}\n</body>", 1)


def on_post_build(config: Any) -> None:
    """Copy the packaged mermaid.js into the site."""
    target = Path(config["site_dir"]) / MERMAID_JS
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(packaged_mermaid(), target)
