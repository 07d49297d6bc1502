"""The JSON codec of outbox rows: arguments, keyword arguments and dispatch options.

A row's ``payload`` is JSON text, ``{"args": [...], "kwargs": {...},
"options": {...}}``. Dispatch options may also hold timezone-aware
``datetime`` and ``timedelta`` values, stored as tagged objects.

Encoding refuses what JSON cannot hold, at the flush, before a row is written.
Decoding treats the text as untrusted: anyone who can write the table can
write it. It checks the size and the nesting before parsing, and every value
it rebuilds, so that no row can make the relay recurse or allocate without
limit, and any row it cannot read raises ``UnreadableRow``, which the relay
turns into a rejected row.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

#: The longest payload a row may hold, in characters; written or read.
MAX_PAYLOAD_CHARS = 1_000_000
#: The deepest nesting of lists and objects in a payload (the payload object counts as 1).
MAX_DEPTH = 100
#: The key that marks a tagged option value (a ``datetime`` or a ``timedelta``).
TAG = "__airlock__"
#: The most headers a row may carry, and the longest key or value, in characters.
MAX_HEADERS = 64
MAX_HEADER_CHARS = 8192
#: A ``timedelta`` option may span at most this many seconds either way (about 1,000 years).
MAX_TIMEDELTA_SECONDS = 1000 * 366 * 86400

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


class UnreadableRow(ValueError):
    """A payload the relay cannot turn back into arguments; the message says why."""


# -- encoding ----------------------------------------------------------------


def encode_payload(
    args: tuple[Any, ...], kwargs: Mapping[str, Any], options: Mapping[str, Any] | None
) -> tuple[str, list[Any], dict[str, Any], dict[str, Any]]:
    """The payload text, and the arguments, keyword arguments and options as stored.

    Raises ``TypeError`` or ``ValueError`` naming the first value JSON cannot
    hold, or saying that the payload is too large or too deep.
    """
    stored_args = to_json(args, "args", 2)
    stored_kwargs = to_json(kwargs, "kwargs", 2)
    stored_options = encode_options(options)
    text = json.dumps({"args": stored_args, "kwargs": stored_kwargs, "options": stored_options})
    if len(text) > MAX_PAYLOAD_CHARS:
        raise ValueError(
            f"the arguments take {len(text):,} characters as JSON; an outbox row holds at most"
            f" {MAX_PAYLOAD_CHARS:,}. Pass an id the task can load the data by instead."
        )
    return text, stored_args, stored_kwargs, stored_options


def to_json(value: Any, path: str, depth: int) -> Any:
    """``value`` as plain JSON data; ``TypeError`` naming the first part that is not.

    ``depth`` is the level ``value`` has in the payload (the payload object is
    level 1, its ``args`` list level 2): a list or dict past ``MAX_DEPTH`` is a
    ``ValueError``.
    """
    if value is None or type(value) in (str, int, bool):
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{path} is {value!r}, which JSON cannot represent.")
        return float(value)
    if isinstance(value, (list, tuple, Mapping)) and depth > MAX_DEPTH:
        raise ValueError(
            f"{path} nests lists and dicts deeper than the {MAX_DEPTH} levels an outbox row holds."
        )
    if isinstance(value, (list, tuple)):
        return [to_json(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path} has the key {key!r}; JSON object keys are strings.")
            out[str.__str__(key)] = to_json(item, f"{path}[{key!r}]", depth + 1)
        return out
    raise TypeError(
        f"{path} is {type(value).__name__} {value!r}; the outbox stores JSON only (str, int,"
        f" float, bool, None, lists and dicts). Pass something the relay can rebuild, such"
        f" as an id or an ISO date string."
    )


def encode_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """Dispatch options as JSON; ``datetime`` and ``timedelta`` values become tagged objects."""
    if not options:
        return {}
    encoded: dict[str, Any] = {}
    for key, value in options.items():
        if isinstance(value, datetime):
            if timezone.is_naive(value):
                raise ValueError(
                    f"dispatch option {key!r} is the naive datetime {value!r}; give it a"
                    f" timezone so that the relay publishes the same moment."
                )
            encoded[key] = {TAG: "datetime", "value": value.isoformat()}
        elif isinstance(value, timedelta):
            encoded[key] = {TAG: "timedelta", "seconds": value.total_seconds()}
        else:
            encoded[key] = to_json(value, f"dispatch option {key!r}", 3)
    return encoded


def encode_headers(headers: object) -> dict[str, str] | None:
    """An intent's headers as a row stores them; ``TypeError``/``ValueError`` naming a bad one."""
    if headers is None:
        return None
    problem = _headers_problem(headers)
    if problem is not None:
        raise TypeError(f"the intent's headers {problem}; a plugin must set dict[str, str].")
    assert isinstance(headers, Mapping)
    return {str.__str__(k): str.__str__(v) for k, v in headers.items()}


# -- decoding ----------------------------------------------------------------


def decode_headers(value: object) -> dict[str, str] | None:
    """The headers a row holds (``None`` for none); ``UnreadableRow`` for anything else."""
    if value is None:
        return None
    problem = _headers_problem(value)
    if problem is not None:
        raise UnreadableRow(f"the headers {problem}")
    assert isinstance(value, dict)
    return dict(value)


def _headers_problem(headers: object) -> str | None:
    """What is wrong with ``headers`` as string key/values of bounded size, if anything."""
    if not isinstance(headers, Mapping):
        return f"are a {type(headers).__name__}, not a dict"
    if len(headers) > MAX_HEADERS:
        return f"are {len(headers)}, more than {MAX_HEADERS}"
    for key, value in headers.items():
        if not isinstance(key, str) or not isinstance(value, str):
            return f"hold {str(key)[:50]!r}: {type(value).__name__}, not a string to a string"
        if len(key) > MAX_HEADER_CHARS or len(value) > MAX_HEADER_CHARS:
            return f"hold {key[:50]!r}, longer than {MAX_HEADER_CHARS} characters"
    return None


def decode_payload(text: object) -> tuple[tuple[Any, ...], dict[str, Any], dict[str, Any]]:
    """The arguments, keyword arguments and dispatch options a row's payload holds.

    Raises ``UnreadableRow`` for anything but a payload ``encode_payload``
    could have written: too long, too deep, not JSON, not an object with the
    three keys of the right types, an option tag it does not know, or a date
    or duration Python cannot represent.
    """
    if not isinstance(text, str):
        raise UnreadableRow(f"the payload is {type(text).__name__}, not JSON text")
    if len(text) > MAX_PAYLOAD_CHARS:
        raise UnreadableRow(
            f"the payload is {len(text):,} characters long; a row holds at most"
            f" {MAX_PAYLOAD_CHARS:,}"
        )
    if text.count("[") + text.count("{") > MAX_DEPTH and nesting(text) > MAX_DEPTH:
        raise UnreadableRow(f"the payload nests deeper than {MAX_DEPTH} levels")
    try:
        payload = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, int too long, NaN
        raise UnreadableRow(f"the payload is not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise UnreadableRow(f"the payload is a JSON {_kind(payload)}, not an object")
    args, kwargs, options = (payload.get(key) for key in ("args", "kwargs", "options"))
    if not isinstance(args, list):
        raise UnreadableRow(f"the payload's args is a JSON {_kind(args)}, not a list")
    if not isinstance(kwargs, dict):
        raise UnreadableRow(f"the payload's kwargs is a JSON {_kind(kwargs)}, not an object")
    if not isinstance(options, dict):
        raise UnreadableRow(f"the payload's options is a JSON {_kind(options)}, not an object")
    return tuple(args), kwargs, decode_options(options)


def decode_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The dispatch options ``encode_options`` stored, with their dates and durations back."""
    decoded: dict[str, Any] = {}
    for key, value in options.items():
        if isinstance(value, dict) and TAG in value:
            decoded[key] = _untag(key[:100], value)
        else:
            decoded[key] = value
    return decoded


def nesting(text: str) -> int:
    """How deep lists and objects nest in the JSON ``text`` (an upper bound if it is not JSON).

    Counted without parsing, so that a deep payload is refused before the
    parser recurses into it: brackets inside strings do not count. (A payload
    with no more opening brackets than ``MAX_DEPTH`` cannot nest deeper, and
    ``decode_payload`` does not count it.)
    """
    depth = deepest = 0
    for bracket in _NOT_BRACKET.sub("", _STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _untag(key: str, value: dict[str, Any]) -> datetime | timedelta:
    tag = value[TAG]
    if tag == "datetime":
        when = value.get("value")
        if not isinstance(when, str):
            raise UnreadableRow(f"dispatch option {key!r} is a datetime without a value")
        try:
            moment = datetime.fromisoformat(when)
        except ValueError as exc:
            raise UnreadableRow(f"dispatch option {key!r}: {exc}") from None
        if timezone.is_naive(moment):
            raise UnreadableRow(f"dispatch option {key!r} is a datetime without a timezone")
        return moment
    if tag == "timedelta":
        seconds = value.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise UnreadableRow(f"dispatch option {key!r} is a timedelta without seconds")
        if not abs(seconds) <= MAX_TIMEDELTA_SECONDS:  # also refuses NaN
            raise UnreadableRow(
                f"dispatch option {key!r} is a timedelta of {seconds!r} seconds, more than"
                f" {MAX_TIMEDELTA_SECONDS:,}"
            )
        return timedelta(seconds=seconds)
    raise UnreadableRow(f"dispatch option {key!r} has an unknown tag {str(tag)[:50]!r}")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _kind(value: object) -> str:
    names = {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


__all__ = [
    "MAX_DEPTH",
    "MAX_HEADERS",
    "MAX_HEADER_CHARS",
    "MAX_PAYLOAD_CHARS",
    "UnreadableRow",
    "decode_headers",
    "decode_options",
    "decode_payload",
    "encode_headers",
    "encode_options",
    "encode_payload",
    "nesting",
    "to_json",
]
