"""A scope for another transaction system: effects wait for a unit of work to commit.

Django's scopes wait for the database transaction; this one waits for
whatever the application calls a unit of work (a batch job's checkpoint, a
message handler's acknowledgement). It uses three of ``airlock.Scope``'s
extension points and nothing else:

- ``intent_enqueued(intent)`` remembers which unit of work was open when each
  intent was enqueued;
- ``dispatch_all(intents)`` hands the intents to that unit instead of the
  executor, and the unit sends them through ``Scope.dispatch_all`` when it
  commits;
- ``report_discarded(intents)`` tells airlock's lifecycle hooks about the
  intents of a unit that rolled back, so that nothing disappears silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import airlock
from airlock import Intent


# --8<-- [start:scope]
class UnitOfWork:
    """Effects of the scopes that flushed inside it, waiting for ``commit()``."""

    def __init__(self) -> None:
        self.waiting: list[tuple[airlock.Scope, list[Intent]]] = []

    def hold(self, scope: airlock.Scope, intents: list[Intent]) -> None:
        """Keep ``scope``'s flushed intents until the unit ends."""
        self.waiting.append((scope, intents))

    def commit(self) -> None:
        """Send everything held, scope by scope, through each scope's executor."""
        waiting, self.waiting = self.waiting, []
        for scope, intents in waiting:
            airlock.Scope.dispatch_all(scope, intents)

    def rollback(self) -> None:
        """Drop everything held, and say so through the lifecycle hooks."""
        waiting, self.waiting = self.waiting, []
        for scope, intents in waiting:
            scope.report_discarded(intents)


_current: ContextVar[UnitOfWork | None] = ContextVar("example_unit_of_work", default=None)


@contextmanager
def unit_of_work() -> Iterator[UnitOfWork]:
    """Open a unit of work: it commits when the block ends, rolls back on an exception."""
    unit = UnitOfWork()
    token = _current.set(unit)
    try:
        yield unit
    except BaseException:
        unit.rollback()
        raise
    else:
        unit.commit()
    finally:
        _current.reset(token)


class UnitOfWorkScope(airlock.Scope):
    """A scope whose effects escape when the unit of work they were enqueued in commits.

    Intents enqueued outside any unit of work go out when the scope ends, as
    with a plain scope. Registered as the scope ``unit_of_work``:
    ``airlock.scope(_cls="unit_of_work")``.
    """

    __slots__ = ("units",)

    def __init__(self, **options: object) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self.units: dict[int, UnitOfWork] = {}

    def intent_enqueued(self, intent: Intent) -> None:
        """Tie ``intent`` to the unit of work open now, if any."""
        unit = _current.get()
        if unit is not None:
            self.units[id(intent)] = unit

    def dispatch_all(self, intents: list[Intent]) -> None:
        """Send intents enqueued outside a unit now; hold the others for their unit."""
        now: list[Intent] = []
        held: dict[int, tuple[UnitOfWork, list[Intent]]] = {}
        for intent in intents:
            unit = self.units.get(id(intent))
            if unit is None:
                now.append(intent)
            else:
                held.setdefault(id(unit), (unit, []))[1].append(intent)
        for unit, waiting in held.values():
            unit.hold(self, waiting)
        if now:
            super().dispatch_all(now)


# --8<-- [end:scope]
