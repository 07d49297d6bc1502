"""settings.py of a project whose effects must survive a crash between commit and publish."""

# --8<-- [start:settings]
INSTALLED_APPS = [
    # ...
    "airlock.integrations.django",  # also provides the outbox table: run `manage.py migrate`
]
MIDDLEWARE = [
    # ...
    "airlock.integrations.django.AirlockMiddleware",
]
AIRLOCK = {
    "EXECUTOR": "airlock.integrations.executors.celery.celery_executor",
    "SCOPE": "outbox",  # every scope writes its effects to the outbox table
    "OUTBOX": {
        "RELAY_AFTER": 10,  # seconds before the relay takes over an undelivered row
        "MAX_ATTEMPTS": 10,  # then the row is dead: kept, reported, never retried silently
        "RETRY_BACKOFF": 5,  # 5 s, 10 s, 20 s, ... between attempts
        "RETRY_BACKOFF_MAX": 600,
        "TASKS": [],  # names the relay may dispatch besides Celery tasks and Dramatiq actors
    },
}
# --8<-- [end:settings]
