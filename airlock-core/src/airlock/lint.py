"""A flake8 plugin that flags task dispatch bypassing airlock.

``task.delay()``, ``task.apply_async()``, ``actor.send()`` and
``queue.enqueue()`` send work the moment they run, whatever scope surrounds
them; ``airlock.enqueue()`` lets the scope decide. Codes:

- ``ALK001`` Celery ``.delay()``
- ``ALK002`` Celery ``.apply_async()``
- ``ALK003`` Dramatiq ``.send()`` / ``.send_with_options()``
- ``ALK004`` RQ ``.enqueue()`` (and ``enqueue_call``, ``enqueue_many``,
  ``enqueue_at``, ``enqueue_in``) on anything but ``airlock``
- ``ALK005`` Celery ``.delay_on_commit()`` / ``.apply_async_on_commit()``:
  they wait for the commit, but hold the message in memory until then, so a
  process that dies in between loses it, and no policy or test capture sees it

Executor code, whose job is to make these calls, is not checked: modules
whose dotted name has a part containing ``executor``, and airlock's own
packages (``airlock``, ``airlock_*``). Anything else takes flake8's own
``# noqa: ALK001`` or ``per-file-ignores``. Nothing here imports flake8:
the checker is a plain class over the standard library's ``ast``.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from functools import lru_cache

from airlock import __version__

_ENQUEUE = "use airlock.enqueue(task, *args, **kwargs) so the scope decides when it runs"
_OPTIONS = "use airlock.enqueue(task, *args, _dispatch_options={...}, **kwargs)"

#: Method name -> (code, message). flake8 wants the code first in the message.
RULES: dict[str, tuple[str, str]] = {
    "delay": ("ALK001", f"direct Celery .delay() call; {_ENQUEUE}"),
    "apply_async": ("ALK002", f"direct Celery .apply_async() call; {_OPTIONS}"),
    "send": ("ALK003", f"direct Dramatiq .send() call; {_ENQUEUE}"),
    "send_with_options": ("ALK003", f"direct Dramatiq .send_with_options() call; {_OPTIONS}"),
    "delay_on_commit": (
        "ALK005",
        f"direct Celery .delay_on_commit() call; {_ENQUEUE} (the outbox scope makes it durable)",
    ),
    "apply_async_on_commit": (
        "ALK005",
        f"direct Celery .apply_async_on_commit() call; {_OPTIONS} (the outbox scope makes it"
        f" durable)",
    ),
    **{
        method: (
            "ALK004",
            f"direct RQ .{method}() call; use airlock.enqueue(func, *args,"
            f' _dispatch_options={{"queue": ...}}, **kwargs)',
        )
        for method in ("enqueue", "enqueue_call", "enqueue_many", "enqueue_at", "enqueue_in")
    },
}


class Checker:
    """The flake8 AST checker: one instance per file, ``run()`` yields the findings."""

    name = "airlock"
    version = __version__

    def __init__(self, tree: ast.AST, filename: str = "") -> None:
        self.tree = tree
        self.filename = filename

    def run(self) -> Iterator[tuple[int, int, str, type[Checker]]]:
        """Yield ``(line, column, message, type)`` for each direct dispatch call."""
        if is_executor_code(self.filename):
            return
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                rule = _rule(node, node.func)
                if rule is not None:
                    code, message = rule
                    line, column = _method_position(node.func)
                    yield line, column, f"{code} {message}", type(self)


def _rule(node: ast.Call, func: ast.Attribute) -> tuple[str, str] | None:
    method, receiver = func.attr, func.value
    rule = RULES.get(method)
    if rule is None or _is_super(receiver):
        return None  # not a dispatch, or an override calling the real method
    if rule[0] == "ALK004" and isinstance(receiver, ast.Name) and receiver.id == "airlock":
        return None
    if method == "send" and any(k.arg == "sender" for k in node.keywords):
        return None  # a Django signal: signal.send(sender=..., ...)
    return rule


def _is_super(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"
    )


def _method_position(node: ast.Attribute) -> tuple[int, int]:
    """Where the method name starts (``.delay`` on a chained, multi-line call)."""
    line = node.end_lineno or node.lineno
    end = node.end_col_offset
    if end is None:
        return node.lineno, node.col_offset
    return line, max(end - len(node.attr), 0)


def module_name(filename: str) -> str:
    """The dotted name Python imports ``filename`` as: the stem plus enclosing packages.

    Packages are the directories with an ``__init__.py``; the walk stops at
    the first one without. ``stdin`` (flake8's name for ``-``) stays as is.
    """
    directory, base = os.path.split(os.path.abspath(filename))
    stem = base[: -len(".py")] if base.endswith(".py") else base
    parts = [] if stem == "__init__" else [stem]
    return ".".join([*_packages(directory), *parts])


@lru_cache(maxsize=256)
def _packages(directory: str) -> tuple[str, ...]:
    if not os.path.isfile(os.path.join(directory, "__init__.py")):
        return ()
    parent, name = os.path.split(directory)
    if not name or parent == directory:
        return ()
    return (*_packages(parent), name)


def is_executor_code(filename: str) -> bool:
    """Whether ``filename`` is executor code, which the checker skips.

    True for a module whose dotted name has a part containing ``executor``
    (``shop/executors.py``, ``shop/executors/celery.py``,
    ``shop/celery_executor.py``) and for airlock's own packages.
    """
    if not filename or filename in ("stdin", "-"):
        return False
    parts = module_name(filename).split(".")
    in_package = len(parts) > 1 or os.path.basename(filename) == "__init__.py"
    if in_package and (parts[0] == "airlock" or parts[0].startswith("airlock_")):
        return True
    return any("executor" in part.lower() for part in parts)


__all__ = ["RULES", "Checker", "is_executor_code", "module_name"]
