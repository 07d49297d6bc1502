from myapp import process_data, send_email

import airlock
from airlock.integrations.executors.celery import celery_executor

with airlock.scope(executor=celery_executor):
    airlock.enqueue(send_email, user_id=123)
    airlock.enqueue(process_data, item_id=456)
    # Both tasks dispatch via .apply_async() when scope exits
