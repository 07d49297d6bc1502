"""``observe_outbox()``: pending and dead rows and the relay's lag, read through the model."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

import airlock
import airlock_opentelemetry

SCRIPT = textwrap.dedent(
    """
    import json
    from datetime import timedelta

    import django
    from django.conf import settings

    settings.configure(
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        INSTALLED_APPS=["airlock.integrations.django"],
        USE_TZ=True,
    )
    django.setup()
    from django.core.management import call_command
    from django.utils import timezone
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    import airlock_opentelemetry
    from airlock_django.models import OutboxMessage

    call_command("migrate", verbosity=0)
    now = timezone.now()

    def row(n, status, age):
        OutboxMessage.objects.create(
            intent_id=f"00000000-0000-0000-0000-{n:012d}", task="t", executor="celery",
            payload="{}", status=status, enqueued_at=now - timedelta(seconds=age),
            next_attempt_at=now,
        )

    reader = InMemoryMetricReader()
    airlock_opentelemetry.observe_outbox(meter_provider=MeterProvider(metric_readers=[reader]))

    def values():
        found = {}
        for resource in reader.get_metrics_data().resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    for point in metric.data.data_points:
                        found[metric.name] = [point.value, dict(point.attributes)]
        return found

    empty = values()
    row(1, OutboxMessage.PENDING, 120)
    row(2, OutboxMessage.PENDING, 5)
    row(3, OutboxMessage.DEAD, 600)
    row(4, OutboxMessage.DELIVERED, 900)
    print(json.dumps({"empty": empty, "rows": values()}))
    """
)


def test_the_gauges_report_pending_and_dead_rows_and_the_lag() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    default = {"db.namespace": "default"}
    assert found["empty"] == {
        "airlock.outbox.pending": [0, default],
        "airlock.outbox.dead": [0, default],
        "airlock.outbox.lag": [0.0, default],
    }
    rows = found["rows"]
    assert rows["airlock.outbox.pending"] == [2, default]
    assert rows["airlock.outbox.dead"] == [1, default]
    lag, attributes = rows["airlock.outbox.lag"]
    assert attributes == default
    assert 120 <= lag < 180  # the oldest pending row, not the dead or delivered one


def test_without_airlock_django_it_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "airlock_django.models", None)  # as if not installed
    with pytest.raises(airlock.UsageError, match="pip install airlock-django"):
        airlock_opentelemetry.observe_outbox()
