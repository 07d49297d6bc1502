"""The test project with the outbox as its default scope and Celery as its executor.

Used by the processes of test_outbox_faults.py (the application process, the
relays, the workers); the environment sets the broker, the queue, the test
database and the outbox's timings.
"""

import os

# The project's Celery app loads with its settings, as Celery's Django guide
# has the project package's __init__.py do.
import shop_project.celery  # noqa: F401

from airtest.settings import *  # noqa: F403

AIRLOCK = {
    "SCOPE": "outbox",
    "EXECUTOR": os.environ.get("AIRTEST_EXECUTOR", "celery"),
    "OUTBOX": {
        "RELAY_AFTER": float(os.environ.get("AIRTEST_RELAY_AFTER", "0")),
        "MAX_ATTEMPTS": int(os.environ.get("AIRTEST_MAX_ATTEMPTS", "10")),
        "RETRY_BACKOFF": float(os.environ.get("AIRTEST_RETRY_BACKOFF", "5")),
        "RETRY_BACKOFF_MAX": float(os.environ.get("AIRTEST_RETRY_BACKOFF_MAX", "600")),
    },
}
CELERY_IMPORTS = ["airtest.fault_tasks"]
# A publisher gives up on an unreachable broker at once, instead of after kombu's
# connection retries (about 6 s per attempt with Celery's defaults): the relay retries
# later anyway (docs/durability.md recommends the same).
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 0}
