"""Django settings of the outbox benchmark: its own PostgreSQL database, airlock_bench."""

import os
from urllib.parse import urlsplit

_pg = urlsplit(
    os.environ.get("AIRLOCK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
)
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("AIRLOCK_BENCH_DB", "airlock_bench"),
        "USER": _pg.username or "postgres",
        "PASSWORD": _pg.password or "",
        "HOST": _pg.hostname or "127.0.0.1",
        "PORT": _pg.port or 5432,
    }
}
SECRET_KEY = "airlock-bench"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["airlock.integrations.django"]
AIRLOCK = {
    "EXECUTOR": "sync",
    "OUTBOX": {"TASKS": ["outbox_bench_tasks.noop", "outbox_bench_tasks.stamp"], "RELAY_AFTER": 60},
}
LOGGING_CONFIG = None
