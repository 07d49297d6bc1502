"""The outbox test project under ATOMIC_REQUESTS, for the processes of test_outbox_requests.py.

The default database is the PostgreSQL test database, or the SQLite file named by
AIRTEST_SQLITE; the in-process sync executor runs the shop's tasks (they record an
Effect row); DieOnTheWayOut sits below AirlockMiddleware.
"""

import os

from airtest.outbox_settings import *  # noqa: F403

if os.environ.get("AIRTEST_SQLITE"):
    DATABASES = {
        **DATABASES,  # noqa: F405
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["AIRTEST_SQLITE"]},
    }
DATABASES["default"] = {**DATABASES["default"], "ATOMIC_REQUESTS": True}
MIDDLEWARE = [*MIDDLEWARE, "airtest.middleware.DieOnTheWayOut"]  # noqa: F405
