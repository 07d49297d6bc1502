"""An executor that publishes to a Redis list: the relay fault tests count every publish.

Each message is pushed as "<message id> <first argument>" to the list
``AIRTEST_EVENTS_KEY`` at ``AIRTEST_EVENTS_URL``, a whole ``dispatch_many``
batch in one pipeline. No worker runs anything: the list is what a broker
received, duplicates included. With ``AIRTEST_PAUSE_AFTER=N`` the process
pushes its first N messages, sets the key ``<events key>:paused`` and then
sleeps, holding its batch, for a test to kill it there.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

import redis

from airlock import Intent
from airlock.plugins import DispatchLedger

#: How long a paused relay waits to be killed before it gives up and exits.
PAUSE = 60.0


class Recording:
    """A batch executor whose broker is a Redis list."""

    message_id_option = "message_id"

    def __init__(self) -> None:
        self.published = 0
        self._client: redis.Redis | None = None

    def __call__(self, intent: Intent) -> None:
        self.dispatch_many([intent])

    def dispatch_many(self, intents: Sequence[Intent]) -> None:
        """Push the batch in one pipeline, or pause part-way as the environment says."""
        if self._client is None:
            self._client = redis.Redis.from_url(os.environ["AIRTEST_EVENTS_URL"])
        key = os.environ["AIRTEST_EVENTS_KEY"]
        pause_after = int(os.environ.get("AIRTEST_PAUSE_AFTER", "0"))
        ledger = DispatchLedger(intents)
        batch = list(intents)
        if pause_after and self.published + len(batch) >= pause_after:
            batch = batch[: pause_after - self.published]
        pipeline = self._client.pipeline(transaction=False)
        for intent in batch:
            pipeline.rpush(key, f"{(intent.dispatch_options or {})['message_id']} {intent.args[0]}")
        pipeline.execute()
        self.published += len(batch)
        ledger.dispatched(*batch)
        if len(batch) < len(intents):
            self._client.set(f"{key}:paused", str(os.getpid()))
            time.sleep(PAUSE)
            raise SystemExit("paused relay was not killed")
        ledger.settle()


executor = Recording()
