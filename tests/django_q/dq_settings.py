"""Settings of the django_q suite: PostgreSQL, django-q2 on the ORM broker, Redis too.

The test process enqueues on both brokers; each ``qcluster`` the suite starts
reads ``DQ_BROKER`` (``orm`` or ``redis``) and ``DQ_DB_NAME`` (the test
database pytest-django made) from its environment.
"""

import os
from urllib.parse import urlsplit, urlunsplit

_pg = urlsplit(
    os.environ.get("AIRLOCK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
)
_db = _pg.path.lstrip("/") or "test"
_redis = urlsplit(os.environ.get("AIRLOCK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
REDIS_URL = urlunsplit(_redis._replace(path="/9"))

SECRET_KEY = "airlock-django-q-tests"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["django_q", "airlock_django", "dqapp"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("DQ_DB_NAME", _db),
        "USER": _pg.username or "postgres",
        "PASSWORD": _pg.password or "",
        "HOST": _pg.hostname or "127.0.0.1",
        "PORT": _pg.port or 5432,
        # one test database per database and stack, so that stacks may run side by side
        "TEST": {"NAME": f"dq_airlock_{_db}_{os.environ.get('AIRLOCK_TEST_STACK', 'local')}"},
    }
}
AIRLOCK = {"EXECUTOR": "django_q", "OUTBOX": {"TASKS": ["dqapp.tasks.record"]}}

_broker = os.environ.get("DQ_BROKER", "both")
Q_CLUSTER = {
    "name": "airlock_dq",
    "workers": 1,
    "timeout": 20,
    "retry": 30,
    "max_attempts": 1,
    "poll": 0.1,
    "guard_cycle": 0.2,
    "catch_up": False,
    "ack_failures": True,
    "redis": REDIS_URL,
}
if _broker in ("orm", "both"):  # with "orm" set, django-q2's default broker is the ORM
    Q_CLUSTER["orm"] = "default"
LOGGING_CONFIG = None
