"""A batching executor: one round trip per flush, and exact accounting when part fails."""

from collections.abc import Sequence

import airlock
from airlock.plugins import DispatchLedger


class Pipeline:
    """Stands in for a broker client: messages are queued, then sent in one round trip."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send_all(self, messages: list[str]) -> None:
        self.sent.extend(messages)


def encode(intent: airlock.Intent) -> str:
    """The message for ``intent``; ``ValueError`` for arguments the broker cannot carry."""
    if not all(isinstance(arg, int) for arg in intent.args):
        raise ValueError(f"{intent!r}: only integer arguments travel on this broker")
    return f"{intent.name}{intent.args}"


class PipelineExecutor:
    """Sends a whole flush through one pipeline."""

    message_id_option = None  # this broker takes no caller-chosen message id
    unsafe_options = frozenset({"callback"})  # names code to run: refused from stored rows

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    def __call__(self, intent: airlock.Intent) -> None:
        """One intent: a batch of one."""
        self.dispatch_many([intent])

    def dispatch_many(self, intents: Sequence[airlock.Intent]) -> None:
        """Encode in order, send what was encoded in one round trip, account for the rest."""
        ledger = DispatchLedger(intents)
        messages, encoded = [], []
        for intent in intents:
            try:
                messages.append(encode(intent))
            except ValueError as exc:
                ledger.failed(intent, exc)  # the intents after it stay pending
                break
            encoded.append(intent)
        try:
            self.pipeline.send_all(messages)
        except ConnectionError as exc:
            ledger.failed(encoded, exc)  # the round trip failed: delivery uncertain
        else:
            ledger.dispatched(*encoded)
        ledger.settle()  # returns, or raises the exact DispatchError


def notify(n: object) -> None:
    """A task; it never runs here, the pipeline carries it."""


pipeline = Pipeline()
try:
    with airlock.scope(executor=PipelineExecutor(pipeline)):
        for n in (1, 2, "three", 4, 5):
            airlock.enqueue(notify, n)
except airlock.DispatchError as error:
    assert [i.args for i in error.dispatched] == [(1,), (2,)]
    assert [i.args for i, _ in error.failed] == [("three",)]
    assert [i.args for i in error.pending] == [(4,), (5,)]
assert pipeline.sent == ["notify(1,)", "notify(2,)"]
