"""The two shapes a user may plug in: ``Policy`` and ``Executor``.

Kept apart so that ``import airlock`` does not pay for ``typing``; airlock
itself duck-types both (``isinstance`` works too: they are runtime-checkable).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from airlock.intents import Intent


@runtime_checkable
class Policy(Protocol):
    """Anything with ``on_enqueue`` and ``allows`` is a policy.

    ``on_enqueue(intent)`` runs when the intent is buffered: observe it, or
    raise ``PolicyViolation`` to refuse it. ``allows(intent)`` runs at flush:
    return ``False`` to drop the intent. Policies filter; they never reorder.
    """

    def on_enqueue(self, intent: Intent) -> None:
        """Observe a newly buffered intent, or raise ``PolicyViolation``."""

    def allows(self, intent: Intent) -> bool:
        """Return whether the intent may be dispatched at flush."""


@runtime_checkable
class Executor(Protocol):
    """A callable that sends one intent on its way.

    An executor may also offer ``dispatch_many(intents)`` to send a whole
    flush in one go (one connection, one pipeline). ``dispatch_many`` must
    either return (everything went out) or raise ``DispatchError`` with exact
    ``dispatched`` / ``failed`` / ``pending`` lists; any other exception
    counts every intent of the batch as failed.
    """

    def __call__(self, intent: Intent) -> None:
        """Dispatch one intent; raise if it could not be sent."""
