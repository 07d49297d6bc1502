# Worker: AIRLOCK_EXECUTOR=rq rq worker --job-class airlock_rq.AirlockJob rq_orders rq_warehouse
from tasks import notify_warehouse

import airlock


def process_order(order_id: int) -> None:
    airlock.enqueue(notify_warehouse, order_id, _dispatch_options={"queue": "rq_warehouse"})
    if order_id < 0:
        raise ValueError("no such order")  # the warehouse is never notified
