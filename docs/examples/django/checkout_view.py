"""A view that enqueues: the request's scope (AirlockMiddleware) lets the tasks out."""

# --8<-- [start:view]
from django.http import HttpResponse
from shop.models import Order
from shop.tasks import notify_warehouse, send_confirmation

import airlock


def checkout_view(request):
    order = Order.objects.create(customer=request.POST["customer"], total_cents=4200)
    airlock.enqueue(send_confirmation, order_id=order.id)
    airlock.enqueue(notify_warehouse, order_id=order.id)
    return HttpResponse("OK")
    # the middleware publishes both tasks once this 200 is returned and the order committed


# --8<-- [end:view]
