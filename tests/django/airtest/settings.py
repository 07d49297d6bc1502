"""Settings of the test project: PostgreSQL (default), a second connection to it
(observer, to see what is committed), SQLite and MariaDB (mysql)."""

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

# The demo shop's app and the docs' examples run inside this project too.
_ROOT = Path(__file__).resolve().parents[3]
for _path in (
    _ROOT / "examples" / "shop",
    _ROOT / "docs" / "examples" / "django",
    _ROOT / "docs" / "examples" / "outbox",
):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

_pg = urlsplit(
    os.environ.get("AIRLOCK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
)
_POSTGRES = {
    "ENGINE": "django.db.backends.postgresql",
    "NAME": os.environ.get("AIRTEST_DB_NAME", _pg.path.lstrip("/") or "test"),
    "USER": _pg.username or "postgres",
    "PASSWORD": _pg.password or "",
    "HOST": _pg.hostname or "127.0.0.1",
    "PORT": _pg.port or 5432,
    # one test database per database and stack, so that stacks (and checkouts pointed at
    # their own database) may run side by side
    "TEST": {
        "NAME": f"django_airlock_{_pg.path.lstrip('/') or 'test'}"
        f"_{os.environ.get('AIRLOCK_TEST_STACK', 'local')}"
    },
}

_my = urlsplit(os.environ.get("AIRLOCK_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"))
_MYSQL = {
    "ENGINE": "django.db.backends.mysql",
    "NAME": os.environ.get("AIRTEST_MYSQL_DB_NAME", _my.path.lstrip("/") or "test"),
    "USER": _my.username or "root",
    "PASSWORD": _my.password or "",
    "HOST": _my.hostname or "127.0.0.1",
    "PORT": _my.port or 3306,
    "OPTIONS": {"charset": "utf8mb4"},
    "TEST": {
        "NAME": f"django_airlock_{_my.path.lstrip('/') or 'test'}"
        f"_{os.environ.get('AIRLOCK_TEST_STACK', 'local')}",
        "CHARSET": "utf8mb4",
    },
}

SECRET_KEY = "airlock-tests"
DEBUG = False
USE_TZ = True
ALLOWED_HOSTS = ["testserver"]
ROOT_URLCONF = "airtest.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "airlock.integrations.django",
    "airtest",
    "shop",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "airtest.middleware.FriendlyErrors",
    "airlock.integrations.django.AirlockMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {
    "default": _POSTGRES,
    "observer": {**_POSTGRES, "TEST": {"MIRROR": "default"}},
    "sqlite": {"ENGINE": "django.db.backends.sqlite3", "NAME": "django_airlock.sqlite3"},
    # MariaDB: only the tests that name it use it (the others list their databases)
    "mysql": _MYSQL,
}
if os.environ.get("AIRTEST_DB_BACKEND") == "mysql":  # a fault test's processes on MariaDB
    DATABASES["default"] = DATABASES["observer"] = _MYSQL
AIRLOCK = {"EXECUTOR": os.environ.get("AIRTEST_EXECUTOR", "sync")}
TASKS = {
    "default": {
        "BACKEND": "django.tasks.backends.dummy.DummyBackend",
        "QUEUES": ["default", "emails"],
    }
}
LOGGING_CONFIG = None

# Celery (the worker tests): Redis database 5, queues prefixed django_.
CELERY_BROKER_URL = os.environ.get("AIRTEST_BROKER_URL", "memory://")
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("AIRTEST_QUEUE", "django_tests")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
