"""settings.py of a project whose requests are transactions: ATOMIC_REQUESTS and the outbox."""

# --8<-- [start:settings]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "ATOMIC_REQUESTS": True,  # each view runs in one transaction
    }
}
MIDDLEWARE = [
    # ...
    "airlock.integrations.django.AirlockMiddleware",  # last, as always
]
AIRLOCK = {
    "EXECUTOR": "airlock.integrations.executors.celery.celery_executor",
    "SCOPE": "outbox",
}
# --8<-- [end:settings]
