"""The middleware is listed but the app is not installed."""

from airtest.settings import *  # noqa: F403

INSTALLED_APPS = ["airtest"]
MIDDLEWARE = ["airlock.integrations.django.AirlockMiddleware"]
