from __future__ import annotations

from asgiref.sync import sync_to_async
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect

import airlock
from airtest import effects
from airtest.middleware import RecoverableError
from airtest.models import Order


def checkout(request: HttpRequest) -> HttpResponse:
    """Creates and processes an order; ?outcome= picks how the request ends."""
    order = Order.objects.create(number=request.GET.get("number", "A-1"))
    order.process()
    outcome = request.GET.get("outcome", "ok")
    if outcome == "raise":
        raise RuntimeError("checkout crashed")
    if outcome == "recoverable":
        raise RecoverableError("payment provider said: try later")
    if outcome == "404":
        raise Http404("no such cart")
    if outcome == "redirect":
        return HttpResponseRedirect("/done/")
    return HttpResponse(str(order.pk), status=int(request.GET.get("status", "200")))


def checkout_with_failed_step(request: HttpRequest) -> HttpResponse:
    """One order commits; a second one is rolled back to a savepoint and the error handled."""
    with transaction.atomic():
        kept = Order.objects.create(number="kept")
        kept.process()
        try:
            with transaction.atomic():
                lost = Order.objects.create(number="lost")
                lost.process()
                raise IntegrityError("duplicate order number")
        except IntegrityError:
            pass
    return HttpResponse(str(kept.pk))


def checkout_marked_for_rollback(request: HttpRequest) -> HttpResponse:
    """Under ATOMIC_REQUESTS: the view asks for a rollback without raising."""
    order = Order.objects.create(number="B-1")
    order.process()
    transaction.set_rollback(True)
    return HttpResponse("rolled back")


def failing_effect(request: HttpRequest) -> HttpResponse:
    airlock.enqueue(effects.fail)
    airlock.enqueue(effects.send_confirmation, 0)
    return HttpResponse("ok")


async def async_checkout(request: HttpRequest) -> HttpResponse:
    order = await sync_to_async(_create_and_process)(request.GET.get("number", "C-1"))
    if request.GET.get("outcome") == "raise":
        raise RuntimeError("async checkout crashed")
    return HttpResponse(str(order.pk), status=int(request.GET.get("status", "200")))


def _create_and_process(number: str) -> Order:
    with transaction.atomic():
        order = Order.objects.create(number=number)
        order.process()
    return order
