"""Seed-compatible import paths. Each forwards to its own distribution.

``airlock.integrations.celery`` lives in airlock-celery,
``airlock.integrations.django`` in airlock-django, and so on; importing one
whose distribution is missing raises ``ImportError`` saying what to install.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping
from typing import Any


def require(module: str, distribution: str) -> None:
    """Raise ``ImportError`` naming ``pip install <distribution>`` if ``module`` is missing."""
    if importlib.util.find_spec(module) is None:
        raise ImportError(
            f"This airlock integration lives in the {distribution!r} distribution, which"
            f" is not installed: pip install {distribution}",
            name=module,
        )


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` importing each name from its submodule on first use.

    Integrations use it so that importing the package (and its airlock
    plugin) does not import the framework behind it.
    """

    def attribute(name: str) -> Any:
        if name in exports:
            return getattr(importlib.import_module(exports[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return attribute
