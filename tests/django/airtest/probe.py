"""Imported by the test worker (-I): reports publishes and task ends to a Redis list.

A publish records whether a database transaction was still open at that moment,
which is how the tests see, from the worker side, that a task's effects were
published only after its transaction committed.
"""

from __future__ import annotations

import os
from typing import Any

import redis
from celery.signals import before_task_publish, task_postrun
from django.db import connection

_events = redis.Redis.from_url(os.environ["AIRTEST_EVENTS_URL"])
_KEY = os.environ["AIRTEST_EVENTS_KEY"]


def _short(name: object) -> str:
    return str(name).rpartition(".")[2]


@before_task_publish.connect
def _published(sender: object = None, **kwargs: Any) -> None:
    _events.rpush(_KEY, f"published {_short(sender)} in_transaction={connection.in_atomic_block}")


@task_postrun.connect
def _finished(sender: Any = None, state: object = None, **kwargs: Any) -> None:
    _events.rpush(_KEY, f"finished {_short(sender.name)} {state}")
