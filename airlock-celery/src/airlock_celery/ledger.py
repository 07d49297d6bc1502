"""The books of one ``dispatch_many``: which intents went out, which failed, which wait.

The same contract as the ledger airlock-core is adding to its plugin API
(``airlock.plugins.DispatchLedger``); this copy goes once that one is released.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from airlock import DispatchError, Intent, UsageError


class DispatchLedger:
    """Mark each intent once, as dispatched or failed; the others are pending.

    ``settle()`` returns when everything went out, or raises the
    ``DispatchError`` of the flush, every list in flush order, chained to the
    first failure recorded.
    """

    __slots__ = ("_errors", "_intents", "_outcome")

    def __init__(self, intents: Sequence[Intent]) -> None:
        self._intents = list(intents)
        #: id(intent) -> None (dispatched) or the error it failed with.
        self._outcome: dict[int, BaseException | None] = {}
        self._errors: list[BaseException] = []

    def dispatched(self, *intents: Intent) -> None:
        """Record that ``intents`` went out."""
        for intent in intents:
            self._record(intent, None)

    def failed(self, intents: Intent | Iterable[Intent], error: BaseException) -> None:
        """Record that ``intents`` (one or many) did not go out, or may not have, and why."""
        for intent in (intents,) if isinstance(intents, Intent) else intents:
            self._record(intent, error)
        self._errors.append(error)

    def _record(self, intent: Intent, error: BaseException | None) -> None:
        key = id(intent)
        if key in self._outcome:
            raise UsageError(f"{intent!r} was already recorded; a ledger records each intent once.")
        self._outcome[key] = error

    @property
    def pending(self) -> list[Intent]:
        """The intents neither dispatched nor failed yet, in flush order."""
        return [i for i in self._intents if id(i) not in self._outcome]

    def settle(self) -> None:
        """Return if every intent was dispatched; else raise ``DispatchError``."""
        if len(self._outcome) == len(self._intents) and not self._errors:
            return
        dispatched: list[Intent] = []
        failed: list[tuple[Intent, BaseException]] = []
        pending: list[Intent] = []
        for intent in self._intents:
            key = id(intent)
            if key not in self._outcome:
                pending.append(intent)
            elif (error := self._outcome[key]) is None:
                dispatched.append(intent)
            else:
                failed.append((intent, error))
        raise DispatchError(dispatched, failed, pending) from (
            self._errors[0] if self._errors else None
        )
