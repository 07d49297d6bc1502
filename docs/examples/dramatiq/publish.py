from datetime import timedelta

from app import notify_warehouse, send_email

import airlock


def checkout(order_id: int, user_id: int) -> None:
    # However far down the calls this runs, nothing is sent yet.
    airlock.enqueue(notify_warehouse, order_id, _dispatch_options={"max_retries": 5})
    airlock.enqueue(send_email, user_id, _dispatch_options={"delay": timedelta(seconds=1)})


with airlock.scope(executor="dramatiq"):
    checkout(order_id=1, user_id=42)
# Both messages were sent here; on Redis in one round trip.
