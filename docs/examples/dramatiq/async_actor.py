import asyncio

import dramatiq
from app import notify_warehouse

import airlock


@dramatiq.actor(queue_name="dramatiq_orders", max_retries=0)
async def ship_order(order_id: int) -> None:
    await asyncio.sleep(0)  # say, awaiting the carrier's API
    airlock.enqueue(notify_warehouse, order_id)  # into this message's scope
    if order_id < 0:
        raise ValueError("no such order")  # the warehouse is never notified
