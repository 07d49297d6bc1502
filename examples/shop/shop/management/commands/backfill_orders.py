"""Re-process every order, e.g. after a data migration; --dry-run lets nothing out."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

import airlock
from shop.models import Order


class Command(BaseCommand):
    help = "Re-process all orders. With --dry-run every effect is dropped (airlock.DropAll)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="dispatch nothing")

    def handle(self, *args: Any, dry_run: bool = False, **options: Any) -> None:
        policy = airlock.DropAll() if dry_run else None
        with airlock.scope(policy=policy) as scope, transaction.atomic():
            orders = 0
            for order in Order.objects.order_by("pk"):
                order.process()
                orders += 1
            buffered = len(scope.intents)
        self.stdout.write(
            f"backfill: {orders} orders re-processed, {buffered} effects buffered,"
            f" {'none' if dry_run else 'all'} dispatched{' (dry run)' if dry_run else ''}"
        )
