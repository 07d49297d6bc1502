from celery import Celery
from myapp import fetch_order, save_order, send_email, update_analytics

import airlock

app = Celery("myapp")


@app.task
@airlock.scoped()
def process_order(order_id):
    order = fetch_order(order_id)
    order.status = "processed"
    save_order(order)

    # These are buffered within the task's scope
    airlock.enqueue(send_email, order_id=order_id)
    airlock.enqueue(update_analytics, order_id=order_id)

    # Flushes when task completes successfully
    # Discards if task raises exception
