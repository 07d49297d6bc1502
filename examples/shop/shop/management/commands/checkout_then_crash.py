"""A checkout whose process is killed right after COMMIT, before any effect is published.

    python manage.py checkout_then_crash --scope django   # the effects are lost
    python manage.py checkout_then_crash --scope outbox   # the relay delivers them

The SIGKILL is registered with ``transaction.on_commit`` before the scope closes, so
it runs first: the order is committed, and the process dies before airlock's own
on-commit work (the publish) can start.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

import airlock
from shop.models import Order


class Command(BaseCommand):
    help = "Save an order, then die between COMMIT and the publish."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scope", choices=["django", "outbox"], required=True)
        parser.add_argument("--customer", default="crash")

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic(), airlock.scope(_cls=options["scope"]):
            order = Order.objects.create(customer=options["customer"], total_cents=100)
            order.process()  # enqueues notify_warehouse and send_confirmation
            transaction.on_commit(lambda: os.kill(os.getpid(), signal.SIGKILL))
