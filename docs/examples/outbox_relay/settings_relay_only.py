"""settings.py of a project whose requests only write their effects; a relay publishes them."""

# --8<-- [start:settings]
AIRLOCK = {
    "EXECUTOR": "airlock.integrations.executors.celery.celery_executor",
    "SCOPE": "outbox",
    "OUTBOX": {
        # The request writes its rows and commits; `manage.py airlock_relay --loop`
        # publishes them, woken by the commit on PostgreSQL.
        "FAST_PATH": False,
    },
}
# --8<-- [end:settings]
