"""An ordinary view, made durable by settings alone (settings_atomic_requests.py)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from shop.models import Order


# --8<-- [start:view]
def place_order(request: HttpRequest) -> JsonResponse:
    # No transaction code, no airlock code: ATOMIC_REQUESTS makes this view one
    # transaction, and AirlockMiddleware writes the outbox rows into it before it commits.
    order = Order.objects.create(customer=request.POST["customer"], total_cents=1200)
    order.process()  # enqueues notify_warehouse and send_confirmation
    return JsonResponse({"order": order.pk}, status=201)


# --8<-- [end:view]
