"""The RQ job of the suite's worker (Redis database 14), run by ``AirlockJob``."""

from __future__ import annotations

import os

import spanfile
from opentelemetry import trace
from rq import Worker

spanfile.setup()

QUEUE = "otel_rq"


def record(label: str) -> str:
    with trace.get_tracer("tests.worker").start_as_current_span(
        "inside", attributes={"label": label}
    ):
        with open(os.environ["AIRLOCK_OTEL_SPANS"] + ".ran", "a", encoding="utf-8") as out:
            out.write(label + "\n")
        return label


class BurstWorker(Worker):
    """RQ's worker without its pub/sub command listener, which can hold a burst worker's exit
    for a minute on RQ 3 with redis-py 8 (tests/rq/burst_worker.py says why)."""

    def subscribe(self) -> None:
        """Listen for no commands: the tests send none."""
