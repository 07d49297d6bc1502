import os

from redis import Redis
from rq import Retry
from tasks import notify_warehouse

import airlock
import airlock_rq

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

# Once, at startup (or set AIRLOCK_RQ_URL, or Django's AIRLOCK_RQ_URL setting).
airlock_rq.configure(connection=Redis.from_url(REDIS_URL), default_queue="rq_default")


def checkout(order_id: int, user_id: int) -> None:
    # However far down the calls this runs, nothing is sent yet.
    airlock.enqueue(
        notify_warehouse,
        order_id,
        _dispatch_options={"queue": "rq_warehouse", "job_timeout": 30, "result_ttl": 0},
    )
    # A dotted path works too; RQ's Retry passes straight through.
    airlock.enqueue("tasks.send_email", user_id, _dispatch_options={"retry": Retry(max=3)})


with airlock.scope(executor="rq"):
    checkout(order_id=1, user_id=42)
# Both jobs were enqueued here, in one Redis round trip.
