"""Embedded defaults: SQLite and the in-process sync executor. No services needed.

With AIRLOCK_DEMO_BROKER_URL (a Redis URL) set, effects go through Celery instead,
exactly as the "Using with Django" guide configures it.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
BROKER_URL = os.environ.get("AIRLOCK_DEMO_BROKER_URL", "")

SECRET_KEY = "demo-shop-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost"]
ROOT_URLCONF = "shop_project.urls"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "airlock.integrations.django",  # applies settings.AIRLOCK at start-up
    "shop",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
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
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("SHOP_DATABASE", str(BASE_DIR / "shop.sqlite3")),
        "OPTIONS": {"timeout": 20},
    }
}

if BROKER_URL:
    AIRLOCK = {"EXECUTOR": "airlock.integrations.executors.celery.celery_executor"}
else:
    AIRLOCK = {"EXECUTOR": "sync"}
# The outbox scope (scene 5 of the demo) hands undelivered rows to the relay after one
# second here; the default, ten seconds, leaves the fast path far more room.
AIRLOCK["OUTBOX"] = {"RELAY_AFTER": 1}

CELERY_BROKER_URL = BROKER_URL or "memory://"
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("SHOP_CELERY_QUEUE", "django_shop")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
