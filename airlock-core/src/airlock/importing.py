"""Finding objects by import path, and modules that forward to other distributions."""

from __future__ import annotations

from airlock.errors import UnknownPluginError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any


def import_object(path: str, *, what: str = "object") -> Any:
    """Import ``package.module.attr`` (or ``package.module:attr``) and return it.

    Raises ``UnknownPluginError`` naming ``what`` when the path is malformed,
    the module cannot be imported or has no such attribute.
    """
    import importlib  # at the first lookup by path, so that importing airlock stays cheap

    module_name, sep, attribute = path.rpartition(":") if ":" in path else path.rpartition(".")
    if not sep or not module_name or not attribute:
        raise UnknownPluginError(
            f"{what} {path!r} is not a dotted import path like 'package.module.name'."
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UnknownPluginError(
            f"Cannot import the {what} {path!r}: {exc}. Check the spelling, and that the"
            f" distribution that provides {module_name!r} is installed."
        ) from exc
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise UnknownPluginError(
            f"Cannot import the {what} {path!r}: module {module_name!r} has no"
            f" attribute {attribute!r}."
        ) from None


def require(module: str, distribution: str) -> None:
    """Raise ``ImportError`` naming ``pip install <distribution>`` if ``module`` is missing.

    airlock's compatibility paths (``airlock.integrations.celery``, ...) call
    it before forwarding to the distribution that holds the code.
    """
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise ImportError(
            f"This airlock integration lives in the {distribution!r} distribution, which"
            f" is not installed: pip install {distribution}",
            name=module,
        )


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` importing each name from its submodule on first use.

    ``exports`` maps each public name to the module that defines it. An
    integration package uses it so that importing the package (and its
    airlock plugin) does not import the framework behind it.
    """

    def attribute(name: str) -> Any:
        if name in exports:
            import importlib

            return getattr(importlib.import_module(exports[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return attribute


__all__ = ["import_object", "lazy_exports", "require"]
