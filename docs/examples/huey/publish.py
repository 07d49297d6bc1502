"""Enqueue Huey tasks through airlock: nothing leaves before the block ends cleanly."""

from datetime import timedelta

from tasks import notify_warehouse, send_email

import airlock

with airlock.scope():  # no executor configured: Huey tasks go to the huey executor
    airlock.enqueue(notify_warehouse, 1, _dispatch_options={"delay": timedelta(minutes=5)})
    airlock.enqueue(send_email, 42, _dispatch_options={"id": "welcome-42", "retries": 2})
# Both tasks are in Huey's queue now, in one Redis round trip.
