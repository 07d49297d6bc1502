"""A project's celery.py that relays the outbox every 10 seconds from Celery beat."""

# --8<-- [start:beat]
from celery import Celery

from airlock_django.periodic import relay_pass

app = Celery("myproject")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.task(name="myproject.relay_outbox", ignore_result=True)
def relay_outbox() -> dict[str, object]:
    """One relay pass: every due row, for at most 10 seconds."""
    return relay_pass(every=10)


app.conf.beat_schedule = {
    "relay-outbox": {"task": "myproject.relay_outbox", "schedule": 10.0},
}
# --8<-- [end:beat]
