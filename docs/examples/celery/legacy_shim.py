from myapp import app

import airlock
from airlock.integrations.celery import LegacyTaskShim


@app.task(base=LegacyTaskShim)
def old_task(arg):
    print(f"old task with {arg}")


def checkout():
    # This now routes through airlock
    with airlock.scope():
        old_task.delay(123)  # Emits DeprecationWarning, buffers intent
    # Dispatches here
