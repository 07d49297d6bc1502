import checkout_view
import place_order
from django.contrib import admin
from django.urls import path

from airtest import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("checkout/", views.checkout),
    path("checkout/partial/", views.checkout_with_failed_step),
    path("checkout/not-atomic/", views.checkout_not_atomic),
    path("checkout/then-die/", views.checkout_then_die),
    path("checkout/rollback/", views.checkout_marked_for_rollback),
    path("checkout/async/", views.async_checkout),
    path("failing-effect/", views.failing_effect),
    path("docs/checkout/", checkout_view.checkout_view),
    path("docs/place-order/", place_order.place_order),
]
