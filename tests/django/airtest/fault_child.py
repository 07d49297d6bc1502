"""An application process that commits effects through the outbox, then meets a fault.

    python -m airtest.fault_child MODE --effects N --label L [--redis-pid P --redis-port Q]

In one ``transaction.atomic()`` block and one outbox scope it creates N orders
and enqueues ``airtest.fault_tasks.record("L:i")`` for each, then, by MODE:

``sigkill``
    registers, before the scope flushes, an on-commit callback that kills this
    process with SIGKILL. On-commit callbacks run in registration order, so the
    process dies right after COMMIT and before the outbox's own callback (the
    publish) runs.
``redis-commit``
    the same callback kills the broker (SIGKILL to the redis-server) instead:
    the publish that follows finds it gone.
``redis-publish``
    kills the broker from Celery's ``before_task_publish`` signal at the
    ``--stop-at``-th message, in the middle of the publish after the commit.
``rollback``
    raises after the scope has flushed (its rows are written) but before the
    atomic block ends, which rolls the transaction back, rows and all.

Settings: airtest.outbox_settings, with the environment the test gives.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import time
from typing import Any


class Declined(Exception):
    """Raised to roll the transaction back."""


def kill_redis(pid: int, port: int) -> None:
    """SIGKILL the broker and return once its port refuses connections."""
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        except OSError:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"redis on port {port} still answers 10s after SIGKILL")
        time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["sigkill", "redis-commit", "redis-publish", "rollback"])
    parser.add_argument("--effects", type=int, required=True)
    parser.add_argument("--label", required=True)
    parser.add_argument("--redis-pid", type=int)
    parser.add_argument("--redis-port", type=int)
    parser.add_argument("--stop-at", type=int, default=1)
    args = parser.parse_args()

    import django

    django.setup()
    from celery.signals import before_task_publish
    from django.db import transaction

    import airlock
    from airtest.fault_tasks import record
    from airtest.models import Order

    if args.mode == "redis-publish":
        published = 0

        def stop_broker_mid_flush(**_: Any) -> None:
            nonlocal published
            published += 1
            if published == args.stop_at:
                kill_redis(args.redis_pid, args.redis_port)

        before_task_publish.connect(stop_broker_mid_flush, weak=False)

    try:
        with transaction.atomic():
            with airlock.scope():
                for number in range(args.effects):
                    Order.objects.create(number=f"{args.label}-{number}")
                    airlock.enqueue(record, f"{args.label}:{number}")
                if args.mode == "sigkill":
                    transaction.on_commit(lambda: os.kill(os.getpid(), signal.SIGKILL))
                elif args.mode == "redis-commit":
                    transaction.on_commit(lambda: kill_redis(args.redis_pid, args.redis_port))
            # the scope has flushed: its rows are written, in this transaction
            if args.mode == "rollback":
                raise Declined
    except Declined:
        pass


if __name__ == "__main__":
    main()
