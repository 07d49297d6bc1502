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

    # held by this run's scope, not published yet
    airlock.enqueue(send_email, order_id=order_id)
    airlock.enqueue(update_analytics, order_id=order_id)
    # returning publishes both; an exception above would have dropped both
