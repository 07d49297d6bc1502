"""The outbox fault tests' Celery task, on the project's own Celery app (shop_project).

``record`` appends "<its Celery task id> <label>" to a Redis list, so the tests
see from the worker side which effect ran, under which id, how many times.
Processes find it through ``CELERY_IMPORTS`` (airtest.outbox_settings), as a
worker and the relay import an application's task modules.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import redis
from shop_project.celery import app

from airlock_celery import CeleryExecutor


@cache
def _events() -> redis.Redis:
    return redis.Redis.from_url(os.environ["AIRTEST_EVENTS_URL"])


@app.task(bind=True)
def record(self: Any, label: str) -> None:
    """Runs on the worker: report this run's task id and label."""
    _events().rpush(os.environ["AIRTEST_EVENTS_KEY"], f"{self.request.id} {label}")


#: Five messages per broker round trip (where kombu batches), so that a flush of
#: twenty effects is several round trips and a broker can die between two of them.
small_batches = CeleryExecutor(batch_size=5)
