from myapp import app, send_email

import airlock
from airlock_celery import ScopedTask


@app.task(base=ScopedTask)
def close_account(user_id):
    airlock.enqueue(send_email, user_id=user_id)  # sent only if close_account succeeds
