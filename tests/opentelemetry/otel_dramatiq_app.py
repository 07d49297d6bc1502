"""The Dramatiq app of the suite's worker (Redis database 13): ``dramatiq otel_dramatiq_app``."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import dramatiq
import spanfile
from dramatiq.brokers.redis import RedisBroker
from opentelemetry import trace

from airlock_dramatiq import AirlockMiddleware

spanfile.setup()

_base = os.environ.get("AIRLOCK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
broker = RedisBroker(url=urlunsplit(urlsplit(_base)._replace(path="/13")), namespace="otel_dq")
broker.add_middleware(AirlockMiddleware())
dramatiq.set_broker(broker)


@dramatiq.actor(queue_name="otel_dramatiq")
def record(label: str) -> None:
    with trace.get_tracer("tests.worker").start_as_current_span(
        "inside", attributes={"label": label}
    ):
        if label == "fail":
            raise ValueError("the task failed")
