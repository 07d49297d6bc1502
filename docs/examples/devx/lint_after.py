"""The same code through airlock: the surrounding scope decides when the tasks go."""

import airlock
from orders import notify_warehouse, send_receipt


def mark_paid(order_id: int) -> None:
    airlock.enqueue(send_receipt, order_id)
    airlock.enqueue(notify_warehouse, order_id, _dispatch_options={"queue": "warehouse"})
