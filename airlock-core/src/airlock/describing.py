"""Short descriptions of arbitrary values, for error messages and logs.

An intent's arguments are whatever the application passed: an object whose
``__repr__`` raises, a list nested thousands deep, a 10 MB string. Describing
one must never fail (an error raised while building a ``DispatchError`` would
replace its accounting) and must stay short (the message is logged).
``reprlib`` bounds the depth and the length of each part; these helpers add
a hard cap on the whole text and survive a failing ``repr`` or ``str``.
"""

from __future__ import annotations

import reprlib

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

#: The longest description of one value, and of one call with all its arguments.
MAX_VALUE = 120
MAX_CALL = 300

_repr = reprlib.Repr()
_repr.maxlevel = 3
_repr.maxstring = 60
_repr.maxlong = 40
_repr.maxother = MAX_VALUE
for _name in ("maxlist", "maxtuple", "maxdict", "maxset", "maxfrozenset", "maxdeque"):
    setattr(_repr, _name, 5)


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, marked with ``...`` where it was cut."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe(value: object) -> str:
    """A bounded ``repr`` of ``value`` that never raises."""
    try:
        return clip(_repr.repr(value), MAX_VALUE)
    except Exception:  # reprlib catches most failures; this catches the rest
        return f"<{_type_name(value)} object, repr() failed>"


def describe_call(name: str, args: Iterable[Any], kwargs: Mapping[str, Any]) -> str:
    """``name(arg, key=value)`` with each argument described, the whole bounded."""
    try:
        parts = [describe(a) for a in args]
        parts.extend(f"{k}={describe(v)}" for k, v in kwargs.items())
    except Exception:  # an arguments container that cannot be iterated
        parts = ["<arguments unavailable>"]
    return clip(f"{name}({', '.join(parts)})", MAX_CALL)


def describe_error(error: BaseException) -> str:
    """``Type: message`` of an exception, bounded, even when its ``str()`` raises."""
    try:
        message = str(error)
    except Exception:
        message = "<str() failed>"
    text = f"{_type_name(error)}: {message}" if message else _type_name(error)
    return clip(text, MAX_CALL)


def _type_name(value: object) -> str:
    try:
        return type(value).__qualname__
    except Exception:  # pragma: no cover - a type without a name
        return "object"
