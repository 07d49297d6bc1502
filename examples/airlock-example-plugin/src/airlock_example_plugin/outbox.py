"""The executor: append each intent to a JSON-lines file that another process drains.

Nothing runs here. That is the whole point of an outbox: the flush only
records what must happen, durably and in order, and a separate worker does
it later. It is also the smallest executor that has to get the two hard
parts right: refusing what it cannot send, and accounting for a batch.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airlock import Intent
from airlock.plugins import DispatchLedger

#: Environment variable naming the outbox file; read at every dispatch.
OUTBOX_ENV = "AIRLOCK_EXAMPLE_OUTBOX"


def outbox_path() -> Path:
    """The file named by ``AIRLOCK_EXAMPLE_OUTBOX``, else one in the temp directory."""
    configured = os.environ.get(OUTBOX_ENV)
    if configured:
        return Path(configured)
    return Path(tempfile.gettempdir()) / "airlock-example-outbox.jsonl"


def task_reference(task: object) -> str:
    """The dotted import path a worker in another process can load ``task`` by.

    A string is taken as it is. Functions defined inside other functions and
    lambdas have no such path, so they are refused rather than written down
    as something no worker could ever run.
    """
    if isinstance(task, str):
        return task
    module = getattr(task, "__module__", None)
    qualname = getattr(task, "__qualname__", None)
    if not (isinstance(module, str) and isinstance(qualname, str)) or "<" in qualname:
        raise TypeError(
            f"{task!r} has no import path, so the outbox cannot record it; enqueue a"
            f" module-level function or its dotted path ('package.module.function')."
        )
    return f"{module}.{qualname}"


def encode(intent: Intent) -> str:
    """One outbox line for ``intent``; ``TypeError`` if it cannot be written as JSON."""
    record = {
        "task": task_reference(intent.task),
        "args": list(intent.args),
        "kwargs": dict(intent.kwargs),
        "options": dict(intent.dispatch_options or {}),
    }
    try:
        return json.dumps(record, separators=(",", ":")) + "\n"
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{intent!r} cannot be written to the outbox as JSON: {exc}") from exc


class OutboxExecutor:
    """Appends intents to a JSON-lines outbox file.

    ``path`` fixes the file; by default ``outbox_path()`` is asked at every
    dispatch, so ``AIRLOCK_EXAMPLE_OUTBOX`` can change between flushes.
    A flush is one ``write()`` of whole lines followed by ``fsync``, so the
    records are on disk before the flush returns and the scope reports success.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._lock = threading.Lock()

    # --8<-- [start:call]
    def __call__(self, intent: Intent) -> None:
        """Dispatch one intent: append its line."""
        self._append([encode(intent)])

    # --8<-- [end:call]

    def dispatch_many(self, intents: Sequence[Intent]) -> None:
        """Dispatch a whole flush with one write, accounting for every intent.

        Lines are encoded first. If one cannot be, the lines before it are
        still written (order is kept), the intent is recorded as failed and
        the rest stay pending: ``DispatchLedger.settle()`` then raises the
        ``DispatchError`` a one-by-one flush would have raised, and airlock
        decides whether to stop or to call again with the rest. If the write
        itself fails, every line of it is failed (the file may hold part of it).
        """
        ledger = DispatchLedger(intents)
        lines: list[str] = []
        encoded: list[Intent] = []
        for intent in intents:
            try:
                lines.append(encode(intent))
            except TypeError as exc:
                ledger.failed(intent, exc)
                break
            encoded.append(intent)
        try:
            self._append(lines)
        except OSError as exc:
            ledger.failed(encoded, exc)
        else:
            ledger.dispatched(*encoded)
        ledger.settle()

    def _append(self, lines: list[str]) -> None:
        if not lines:
            return
        path = self.path or outbox_path()
        with self._lock, path.open("a", encoding="utf-8") as file:
            file.write("".join(lines))
            file.flush()
            os.fsync(file.fileno())

    def __repr__(self) -> str:
        return f"OutboxExecutor(path={str(self.path or outbox_path())!r})"


def read_outbox(path: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """The records in the outbox, oldest first (what a worker would consume)."""
    source = Path(path) if path is not None else outbox_path()
    if not source.exists():
        return []
    with source.open(encoding="utf-8") as file:
        return [json.loads(line) for line in file if line.strip()]
