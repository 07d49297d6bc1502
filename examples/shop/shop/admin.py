"""Staff re-process orders from the admin; customers must not get a second email."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

import airlock
from shop.models import Effect, Order


@admin.action(description="Re-send selected orders to the warehouse")
def reprocess(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    with airlock.policy(airlock.BlockTasks({"send_confirmation"})):
        for order in queryset:
            order.process()


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["id", "customer", "total_cents", "status"]
    actions = [reprocess]


@admin.register(Effect)
class EffectAdmin(admin.ModelAdmin):
    list_display = ["id", "task", "order_id", "ran_in", "order_status"]
