"""The settings of the Django page's setup, on top of the demo shop's project settings."""

from shop_project.settings import *  # noqa: F403  (the rest of a real project's settings)

# --8<-- [start:settings]
# settings.py
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "shop",
    "airlock.integrations.django",  # applies settings.AIRLOCK at start-up
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "airlock.integrations.django.AirlockMiddleware",  # last: one scope per request
]

AIRLOCK = {
    "EXECUTOR": "airlock.integrations.executors.celery.celery_executor",
}
# --8<-- [end:settings]
