from myapp import process_data, send_email

import airlock
from airlock.integrations.executors.celery import celery_executor

with airlock.scope(executor=celery_executor):
    airlock.enqueue(send_email, user_id=123)
    airlock.enqueue(process_data, item_id=456)
    # nothing is published yet
# the block has ended: both tasks were just published, with .apply_async()
