"""Finding objects by import path, and modules that forward to other distributions."""

from __future__ import annotations

from types import FunctionType

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


def why_not_importable(task: object) -> str | None:
    """Why a worker in another process could not import ``task`` by name; ``None`` if it can.

    For executors whose workers import each task by its dotted path (RQ,
    django-q2): call it before sending, and raise with the reason. A string
    must be a dotted path. A function, or the function of a method, must be
    defined at the top level of a module other than ``__main__``: a lambda, a
    nested function or a function of the running script has no path a worker
    could import. Other callables (an instance with ``__call__``, a builtin)
    are left to the framework: ``None``.
    """
    if isinstance(task, str):
        if "." in task.strip("."):
            return None
        return f"{task!r} is not a dotted path (write 'package.module.function')"
    function = getattr(task, "__func__", task)
    if isinstance(function, FunctionType):
        module, qualname = function.__module__, function.__qualname__
        if module == "__main__" or "<" in qualname:
            return (
                f"{module}.{qualname} cannot be imported (a lambda, a nested function or a"
                f" function of __main__); move it to a module"
            )
    return None


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


__all__ = ["import_object", "lazy_exports", "require", "why_not_importable"]
