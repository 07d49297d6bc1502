"""Waking the relay when rows are committed: PostgreSQL ``NOTIFY`` and ``LISTEN``.

With ``AIRLOCK["OUTBOX"]["FAST_PATH"] = False`` the committing process does
not publish; the relay does. On PostgreSQL the scope sends ``NOTIFY
airlock_outbox`` in the transaction that writes the rows, which PostgreSQL
delivers only once that transaction commits (and never if it rolls back), and a
relay in ``--loop`` mode waits on ``LISTEN airlock_outbox`` between passes, so
it starts a pass within milliseconds of the commit. A notification carries
nothing the relay relies on: it only cuts the wait short. A lost one (the
listening connection dropped, a relay started after the commit) costs at most
one ``--interval``, the poll that still runs. Other databases have no such
signal: there the relay polls.
"""

from __future__ import annotations

import logging
import os
import select
import time
from contextlib import suppress
from typing import Any

from django.db import DatabaseError, connections

from airlock_django.store import describe

logger = logging.getLogger("airlock_django.relay")

#: The channel the outbox notifies and the relay listens on.
CHANNEL = "airlock_outbox"
#: Seconds between two attempts to open a listening connection that failed.
REOPEN_EVERY = 5.0


def can_notify(using: str) -> bool:
    """Whether the database ``using`` has ``LISTEN``/``NOTIFY`` (PostgreSQL)."""
    return connections[using].vendor == "postgresql"


def notify(using: str) -> None:
    """Send the wake-up in the open transaction (delivered at its commit) of ``using``."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"NOTIFY {CHANNEL}")


class Listener:
    """A connection of its own that ``LISTEN``s, so that the relay can wait on it.

    It is not the connection the relay works on: that one reads results while
    notifications arrive, and would swallow one that came during a pass. This
    one only waits; a notification that arrives during a pass stays unread on
    its socket, and the next ``wait`` returns at once.
    """

    def __init__(self, using: str) -> None:
        self.using = using
        self._raw: Any = None
        self._broken = False
        self._reopen_at = 0.0
        #: What the driver raises (a raw connection's errors are not Django's).
        self._errors: tuple[type[BaseException], ...] = (
            getattr(connections[using], "Database").Error,  # noqa: B009 (not in the stubs)
            DatabaseError,
            OSError,
            ValueError,
        )

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a notification; whether one came.

        Right after it (re)opens its connection it returns ``True`` at once:
        rows committed before ``LISTEN`` took effect woke nobody, and the
        caller's next pass finds them.

        When the listening connection cannot be opened or breaks, it logs a
        WARNING once and sleeps instead (the poll goes on), opening it again at
        most every ``REOPEN_EVERY`` seconds.
        """
        if self._raw is None and time.monotonic() < self._reopen_at:
            time.sleep(timeout)
            return False
        try:
            if self._raw is None:
                self._open()
                # a commit before LISTEN was heard by nobody: the caller passes once now
                self._recovered()
                return True
            readable, _, _ = select.select([self._raw.fileno()], [], [], timeout)
            if readable:
                self._consume()
        except self._errors as exc:
            self.close()
            self._reopen_at = time.monotonic() + REOPEN_EVERY
            if not self._broken:
                self._broken = True
                logger.warning(
                    "airlock relay: cannot LISTEN on database %r (%s); polling every"
                    " --interval until it can again.",
                    self.using,
                    " ".join(describe(exc).split()),
                )
            return False
        return bool(readable)

    def _recovered(self) -> None:
        if self._broken:
            self._broken = False
            logger.info("airlock relay: listening on database %r again.", self.using)

    def _open(self) -> None:
        wrapper = connections[self.using]
        params = wrapper.get_connection_params()
        # told apart from the relay's working connection in pg_stat_activity
        name = params.get("application_name") or os.environ.get("PGAPPNAME") or "airlock_relay"
        params["application_name"] = f"{name} (listener)"
        raw = wrapper.get_new_connection(params)
        raw.autocommit = True
        if hasattr(raw, "add_notify_handler"):  # psycopg 3 keeps unclaimed ones otherwise
            raw.add_notify_handler(lambda notification: None)
        self._raw = raw
        self._run(f"LISTEN {CHANNEL}")

    def _consume(self) -> None:
        """Read what arrived (psycopg reads notifications with any result) and forget it."""
        self._run("SELECT 1")
        queued = getattr(self._raw, "notifies", None)
        if isinstance(queued, list):  # psycopg 2 queues them there
            queued.clear()

    def _run(self, sql: str) -> None:
        with self._raw.cursor() as cursor:
            cursor.execute(sql)

    def close(self) -> None:
        """Close the listening connection, if open."""
        if self._raw is not None:
            with suppress(Exception):
                self._raw.close()
            self._raw = None


__all__ = ["CHANNEL", "Listener", "can_notify", "notify"]
