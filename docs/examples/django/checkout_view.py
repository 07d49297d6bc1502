"""The seed's checkout view, wired to the demo shop's models and tasks."""

# ruff: noqa: E402  (the snippet below is the seed's text, imports included)

from django.http import HttpRequest
from shop.models import Order
from shop.tasks import notify_warehouse
from shop.tasks import send_confirmation as send_confirmation


def process_checkout(request: HttpRequest) -> Order:
    return Order.objects.create(customer=request.POST.get("customer", "ada"), total_cents=4200)


# --8<-- [start:view]
from django.http import HttpResponse

import airlock


def checkout_view(request):
    order = process_checkout(request)
    airlock.enqueue(send_confirmation, order_id=order.id)
    airlock.enqueue(notify_warehouse, order_id=order.id)
    return HttpResponse("OK")
    # Both tasks dispatch via Celery after transaction.on_commit()


# --8<-- [end:view]
