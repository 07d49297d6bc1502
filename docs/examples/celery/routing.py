from myapp import send_email

import airlock

AUDIT_LOG = []


def audit(order_id):
    """A plain function: no task queue involved."""
    AUDIT_LOG.append(f"order {order_id} confirmed")


with airlock.scope():  # no executor chosen, here or anywhere
    airlock.enqueue(send_email, order_id=7)  # a Celery task: published to the broker
    airlock.enqueue(audit, 7)  # a plain function: runs in this process
# Both escape here: send_email reaches a worker, audit() has run
