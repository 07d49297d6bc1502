"""Seed-compatible import paths. Each forwards to its own distribution.

``airlock.integrations.celery`` lives in airlock-celery,
``airlock.integrations.django`` in airlock-django, and so on; importing one
whose distribution is missing raises ``ImportError`` saying what to install.
"""

from __future__ import annotations

import importlib.util


def require(module: str, distribution: str) -> None:
    """Raise ``ImportError`` naming ``pip install <distribution>`` if ``module`` is missing."""
    if importlib.util.find_spec(module) is None:
        raise ImportError(
            f"This airlock integration lives in the {distribution!r} distribution, which"
            f" is not installed: pip install {distribution}",
            name=module,
        )
