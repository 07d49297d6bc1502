import dramatiq
from app import notify_warehouse

import airlock


@dramatiq.actor(queue_name="dramatiq_orders", max_retries=0)
@airlock.scoped(executor="dramatiq")
def cancel_order(order_id: int) -> None:
    # Without the middleware: the scope is the actor body, and a failed flush
    # fails the message (so Dramatiq's retries apply to it).
    airlock.enqueue(notify_warehouse, -order_id)
