"""Code the lint rule flags: each call sends its task the moment it runs."""

from shop.tasks import notify_warehouse, send_receipt, warehouse_queue


def mark_paid(order_id: int) -> None:
    send_receipt.delay(order_id)
    notify_warehouse.apply_async(args=(order_id,), queue="warehouse")
    warehouse_queue.enqueue(notify_warehouse, order_id)


def resend_receipt(order_id: int) -> None:
    send_receipt.delay(order_id)  # noqa: ALK001 (a support tool: it sends at once on purpose)
