from myapp import send_email

import airlock


def notify(orders):
    """Send one email per order; return the intents to retry if the broker failed."""
    try:
        with airlock.scope(executor="celery"):
            for order in orders:
                airlock.enqueue(send_email, order_id=order.id)
    except airlock.DispatchError as error:
        print(f"{len(error.dispatched)} sent")  # went out
        for intent, exc in error.failed:  # could not be sent (or delivery uncertain)
            print(f"{intent!r} failed: {exc}")
        return [intent for intent, _ in error.failed] + error.pending  # never attempted
    return []
