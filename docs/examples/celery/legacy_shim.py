from myapp import app

import airlock
from airlock.integrations.celery import LegacyTaskShim


@app.task(base=LegacyTaskShim)
def old_task(arg):
    print(f"old task with {arg}")


def checkout():
    with airlock.scope():
        old_task.delay(123)  # a DeprecationWarning, and an intent in this scope
    # published here, when the block ends
