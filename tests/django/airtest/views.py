from __future__ import annotations

import os
import signal

from asgiref.sync import sync_to_async
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect

import airlock
from airtest import effects
from airtest.middleware import RecoverableError
from airtest.models import Order


def checkout(request: HttpRequest) -> HttpResponse:
    """Creates and processes an order; ?outcome= picks how the request ends.

    ?witness=1 records, right after the commit, what another connection sees.
    """
    order = Order.objects.create(number=request.GET.get("number", "A-1"))
    order.process()
    if request.GET.get("witness"):
        transaction.on_commit(effects.witness)
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


@transaction.non_atomic_requests
def checkout_not_atomic(request: HttpRequest) -> HttpResponse:
    """Opts out of ATOMIC_REQUESTS: its own transaction commits before the middleware flushes."""
    with transaction.atomic():
        order = Order.objects.create(number="N-1")
        order.process()
        transaction.on_commit(effects.witness)
    return HttpResponse(str(order.pk))


def checkout_then_die(request: HttpRequest) -> HttpResponse:
    """A shop order, then SIGKILL: right after the commit (?at=commit), or on the way out.

    Run in a process of its own (airtest.request_child), never in the test process.
    """
    from shop.models import Order as ShopOrder

    order = ShopOrder.objects.create(customer=request.GET["customer"], total_cents=100)
    order.process()  # enqueues notify_warehouse and send_confirmation
    if request.GET.get("at") == "commit":
        transaction.on_commit(lambda: os.kill(os.getpid(), signal.SIGKILL))
    else:
        request.airtest_die = True  # type: ignore[attr-defined]  (DieOnTheWayOut)
    return HttpResponse(str(order.pk))


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
