"""The checkout view: effects are expressed inline; the middleware's scope lets them out."""

from __future__ import annotations

import logging

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

import airlock
from shop.models import Order
from shop.tasks import ship_order

DECLINED_CARD = "4000-0000-0000-0002"
logger = logging.getLogger("shop")


class PaymentDeclined(Exception):
    """The payment provider said no."""


def process_checkout(request: HttpRequest) -> Order:
    with transaction.atomic():
        order = Order.objects.create(
            customer=request.POST["customer"], total_cents=int(request.POST["total_cents"])
        )
        order.process()  # enqueues notify_warehouse and send_confirmation
        transaction.on_commit(lambda: logger.info("COMMIT: %s saved", order))
        if request.POST.get("card") == DECLINED_CARD:
            raise PaymentDeclined(f"card {DECLINED_CARD} was declined")
    return order


@require_POST
def checkout_view(request: HttpRequest) -> HttpResponse:
    try:
        order = process_checkout(request)
    except PaymentDeclined as exc:
        logger.info("ROLLBACK: %s", exc)
        return HttpResponse(str(exc), status=402)
    airlock.enqueue(ship_order, order_id=order.pk)
    return HttpResponse(f"OK {order}", status=201)
