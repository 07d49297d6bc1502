from myapp import app, fetch_order, save_order, send_email, update_analytics

import airlock


@app.task
def process_order(order_id):
    with airlock.scope():
        order = fetch_order(order_id)
        order.status = "processed"
        save_order(order)

        airlock.enqueue(send_email, order_id=order_id)
        airlock.enqueue(update_analytics, order_id=order_id)
    # published here if the block finished, dropped if it raised
