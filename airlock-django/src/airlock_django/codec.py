"""The JSON codec of outbox rows: arguments, keyword arguments and dispatch options.

A row's ``payload`` is JSON text, ``{"args": [...], "kwargs": {...},
"options": {...}}``. Dispatch options may also hold timezone-aware
``datetime`` and ``timedelta`` values, stored as tagged objects. Encoding
refuses what JSON cannot hold, at the flush, before a row is written.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

#: The key that marks a tagged option value (a ``datetime`` or a ``timedelta``).
TAG = "__airlock__"


def encode_payload(
    args: tuple[Any, ...], kwargs: Mapping[str, Any], options: Mapping[str, Any] | None
) -> tuple[str, list[Any], dict[str, Any], dict[str, Any]]:
    """The payload text, and the arguments, keyword arguments and options as stored.

    Raises ``TypeError`` or ``ValueError`` naming the first value JSON cannot hold.
    """
    stored_args = to_json(args, "args")
    stored_kwargs = to_json(kwargs, "kwargs")
    stored_options = encode_options(options)
    text = json.dumps({"args": stored_args, "kwargs": stored_kwargs, "options": stored_options})
    return text, stored_args, stored_kwargs, stored_options


def to_json(value: Any, path: str) -> Any:
    """``value`` as plain JSON data; ``TypeError`` naming the first part that is not."""
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
    if isinstance(value, (list, tuple)):
        return [to_json(item, f"{path}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path} has the key {key!r}; JSON object keys are strings.")
            out[str.__str__(key)] = to_json(item, f"{path}[{key!r}]")
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
            encoded[key] = to_json(value, f"dispatch option {key!r}")
    return encoded


def decode_payload(text: str) -> tuple[tuple[Any, ...], dict[str, Any], dict[str, Any]]:
    """The arguments, keyword arguments and dispatch options a row's payload holds.

    Raises ``TypeError``, ``ValueError`` or ``KeyError`` for a payload of
    another shape.
    """
    payload = json.loads(text)
    args, kwargs, options = payload["args"], payload["kwargs"], payload["options"]
    if not isinstance(args, list) or not isinstance(kwargs, dict) or not isinstance(options, dict):
        raise TypeError("args must be a JSON list, kwargs and options JSON objects")
    return tuple(args), kwargs, decode_options(options)


def decode_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The dispatch options ``encode_options`` stored, with their dates and durations back."""
    decoded: dict[str, Any] = {}
    for key, value in options.items():
        if isinstance(value, dict) and TAG in value:
            if value[TAG] == "datetime":
                decoded[key] = datetime.fromisoformat(value["value"])
            elif value[TAG] == "timedelta":
                decoded[key] = timedelta(seconds=value["seconds"])
            else:
                raise ValueError(f"dispatch option {key!r} has an unknown tag {value[TAG]!r}.")
        else:
            decoded[key] = value
    return decoded


__all__ = ["decode_options", "decode_payload", "encode_options", "encode_payload", "to_json"]
