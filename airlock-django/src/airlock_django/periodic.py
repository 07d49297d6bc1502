"""One relay pass as a function, for a scheduler to call: a relay without a process of its own.

A small site may not want to run ``manage.py airlock_relay --loop`` as a
service. ``relay_pass()`` does what one ``--once`` does, bounded in time, and
writes a heartbeat (so ``airlock.W004`` knows a relay is expected), and a
scheduler the site already runs calls it: Celery beat, in the worker
(``celery worker --beat``) or on its own::

    @app.task(name="myproject.relay_outbox")
    def relay_outbox() -> dict[str, int]:
        return relay_pass(every=10)

    app.conf.beat_schedule = {
        "relay-outbox": {"task": "myproject.relay_outbox", "schedule": 10.0},
    }

The trade-offs are in docs/outbox-relay.md: effects wait up to ``every``
seconds (no wake-up by the commit), and the pass runs in a worker, taking a
worker slot while it runs.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from airlock_django.relay import Heartbeat, Relay, Tally


def relay_pass(
    *, every: float, using: str = "default", batch_size: int = 100, max_seconds: float | None = None
) -> dict[str, Any]:
    """Relay every due row of ``using`` (for at most ``max_seconds``, by default ``every``).

    ``every`` is how often the scheduler calls it, in seconds: the heartbeat
    counts as fresh for three periods. Returns the pass's counts (``claimed``,
    ``delivered``, ``failed``, ``untried``, ``dead``, ``rejected``,
    ``batches``, ``seconds``) as a dict, which a Celery result can hold.
    Raises ``ValueError`` for an ``every`` or ``max_seconds`` that is not positive.
    """
    if not every > 0:
        raise ValueError(f"every must be a number of seconds above 0, got {every!r}.")
    budget = every if max_seconds is None else max_seconds
    if not budget > 0:
        raise ValueError(f"max_seconds must be above 0, got {max_seconds!r}.")
    relay = Relay(using=using, batch_size=batch_size)
    Heartbeat(using, stale_after=3 * every, name=f"periodic:{using}").beat()
    deadline = time.monotonic() + budget
    stop = threading.Event()

    def out_of_time(tally: Tally) -> None:
        if time.monotonic() >= deadline:
            stop.set()  # the next pass takes the rest

    total = relay.drain(out_of_time, stop)
    return {
        "claimed": total.claimed,
        "delivered": total.delivered,
        "failed": total.failed,
        "untried": total.untried,
        "dead": total.dead,
        "rejected": total.rejected,
        "batches": total.batches,
        "seconds": round(total.seconds, 3),
    }


__all__ = ["relay_pass"]
