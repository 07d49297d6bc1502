"""A health check for the outbox, for a load balancer or an uptime probe."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from airlock_django.relay import Relay


# --8<-- [start:health]
def outbox_health(request: HttpRequest) -> JsonResponse:
    stats = Relay().stats()  # rows per status, and how late the oldest due row is
    healthy = stats["oldest_overdue_seconds"] < 300 and stats["dead"] == 0
    return JsonResponse(stats, status=200 if healthy else 503)


# --8<-- [end:health]
