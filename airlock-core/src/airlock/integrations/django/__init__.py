"""Compatibility path for the Django integration (usable in INSTALLED_APPS).

The code lives in airlock-django.
"""

from typing import Any

from airlock.importing import require

require("airlock_django", "airlock-django")


def __getattr__(name: str) -> Any:
    # Lazy, so listing the app in INSTALLED_APPS imports nothing before Django is ready.
    if name in ("AirlockMiddleware", "DjangoScope"):
        import airlock_django

        return getattr(airlock_django, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["AirlockMiddleware", "DjangoScope"]
