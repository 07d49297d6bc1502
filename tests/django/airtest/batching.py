"""A batch executor (``dispatch_many``) whose outcome per intent the test scripts."""

from __future__ import annotations

from collections.abc import Sequence

from airlock import Intent
from airlock.plugins import DispatchLedger


class ScriptedBatches:
    """Sends batches; ``script[label]`` makes an intent refused or the broker go down there.

    ``"refuse"``: that message is refused for good (``ValueError``); the batch
    stops there and the rest stay pending. ``"down"``: the connection drops while
    that message and the next two are in flight; whether they went out is
    uncertain, and the rest stay pending.
    """

    def __init__(self) -> None:
        self.script: dict[object, str] = {}
        self.batches: list[list[object]] = []
        self.sent: list[object] = []
        self.headers: list[dict[str, str] | None] = []

    def __call__(self, intent: Intent) -> None:
        self.dispatch_many([intent])

    def dispatch_many(self, intents: Sequence[Intent]) -> None:
        """Send in order, as the script says."""
        self.batches.append([intent.args[0] for intent in intents])
        ledger = DispatchLedger(intents)
        for position, intent in enumerate(intents):
            outcome = self.script.get(intent.args[0], "ok")
            if outcome == "refuse":
                ledger.failed(intent, ValueError("the broker cannot encode this message"))
                break
            if outcome == "down":
                ledger.failed(intents[position : position + 3], ConnectionError("reset by peer"))
                break
            self.sent.append(intent.args[0])
            self.headers.append(intent.headers)
            ledger.dispatched(intent)
        ledger.settle()


executor = ScriptedBatches()
