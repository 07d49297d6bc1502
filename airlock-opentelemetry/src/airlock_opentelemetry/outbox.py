"""Observable gauges of the Django outbox: pending and dead rows, and the relay's lag.

Optional: ``observe_outbox()`` imports airlock-django only when called, and
reads the outbox through its public Django model
(``airlock_django.models.OutboxMessage``) each time the application's metric
reader collects.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

from airlock import UsageError

#: The gauges ``observe_outbox()`` creates.
GAUGES = ("airlock.outbox.pending", "airlock.outbox.dead", "airlock.outbox.lag")


def observe_outbox(
    *, using: str = "default", meter_provider: metrics.MeterProvider | None = None
) -> None:
    """Report the outbox of database ``using`` as three observable gauges.

    ``airlock.outbox.pending`` (rows waiting for the relay),
    ``airlock.outbox.dead`` (rows the relay gave up on) and
    ``airlock.outbox.lag`` (seconds since the oldest pending row was written:
    how far behind the relay is). Call it once per process that should report
    them (the relay's, typically), after Django is set up; each collection
    runs two queries. Needs airlock-django in ``INSTALLED_APPS``.
    """
    try:
        from airlock_django.models import OutboxMessage
    except ImportError as exc:
        raise UsageError(
            "observe_outbox() reports the Django outbox and needs airlock-django:"
            " pip install airlock-django, and add 'airlock_django' to INSTALLED_APPS."
        ) from exc
    from django.db.models import Count, Min
    from django.utils import timezone

    meter = metrics.get_meter("airlock_opentelemetry", meter_provider=meter_provider)
    attributes = {"db.namespace": using}

    def rows() -> Any:
        return OutboxMessage.objects.using(using)

    def count(status: int) -> Iterable[Observation]:
        found = rows().filter(status=status).aggregate(n=Count("id"))["n"]
        return [Observation(found, attributes)]

    def pending(options: CallbackOptions) -> Iterable[Observation]:
        return count(OutboxMessage.PENDING)

    def dead(options: CallbackOptions) -> Iterable[Observation]:
        return count(OutboxMessage.DEAD)

    def lag(options: CallbackOptions) -> Iterable[Observation]:
        oldest = rows().filter(status=OutboxMessage.PENDING).aggregate(at=Min("enqueued_at"))["at"]
        age = 0.0 if oldest is None else max((timezone.now() - oldest).total_seconds(), 0.0)
        return [Observation(age, attributes)]

    meter.create_observable_gauge(
        GAUGES[0], [pending], unit="{row}", description="Outbox rows waiting for the relay."
    )
    meter.create_observable_gauge(
        GAUGES[1], [dead], unit="{row}", description="Outbox rows the relay gave up on."
    )
    meter.create_observable_gauge(
        GAUGES[2],
        [lag],
        unit="s",
        description="Age of the oldest pending outbox row: how far behind the relay is.",
    )
