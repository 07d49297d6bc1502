"""The worker class the suite runs (``rq worker --worker-class burst_worker.BurstWorker``).

RQ's own ``Worker``, without the thread that listens for commands (shutdown,
kill-horse, stop-job) on a pub/sub channel: the tests send none, and on exit
that thread can hold a burst worker for up to a minute with RQ 3 on
redis-py 8. RQ 3 waits for commands 60 s at a time and wakes the thread with
its UNSUBSCRIBE; when the thread reads that reply before
``PubSubWorkerThread.stop()`` clears its flag, it waits again, and redis-py 8's
``stop()`` joins it with no timeout.
"""

from __future__ import annotations

from rq import Worker


class BurstWorker(Worker):
    """An RQ worker that takes no commands over pub/sub (see the module docstring)."""

    def subscribe(self) -> None:
        """Listen for no commands: the tests send none."""
