"""The code under test in the testing-tools examples: orders that express their effects."""

from __future__ import annotations

import airlock


def send_receipt(order_id: int) -> str:
    return f"receipt for order {order_id}"


def notify_warehouse(order_id: int) -> str:
    return f"warehouse told about order {order_id}"


def charge_card(order_id: int, amount: int) -> str:
    if amount <= 0:
        raise ValueError(f"cannot charge {amount} for order {order_id}")
    airlock.enqueue(send_receipt, order_id)  # a cascade: the task enqueues more
    return f"charged {amount} for order {order_id}"


def mark_paid(order_id: int, amount: int) -> None:
    airlock.enqueue(charge_card, order_id, amount)
    airlock.enqueue(notify_warehouse, order_id, _dispatch_options={"queue": "warehouse"})


def order_total(prices: list[int]) -> int:
    return sum(prices)


@airlock.scoped()
def import_orders(rows: list[tuple[int, int]]) -> None:
    """A bulk import with its own scope: it releases into whatever scope surrounds it."""
    for order_id, amount in rows:
        if amount < 0:
            raise ValueError(f"row {order_id}: negative amount")
        mark_paid(order_id, amount)
