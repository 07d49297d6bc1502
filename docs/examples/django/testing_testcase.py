"""How to test code that enqueues, with Django's own TestCase and test runner."""

# --8<-- [start:test]
from django.test import TestCase
from shop.models import Effect, Order
from shop.tasks import notify_warehouse, send_confirmation

import airlock
from airlock.testing import capture


class ProcessTests(TestCase):
    def test_process_enqueues_the_notifications(self):
        order = Order.objects.create(customer="ada", total_cents=100)
        with capture() as captured:
            order.process()

        captured.assert_enqueued_in_order([notify_warehouse, send_confirmation], exact=True)
        self.assertEqual(Effect.objects.count(), 0)  # nothing ran

    def test_a_scope_of_the_code_releases_into_the_capture(self):
        # TestCase's transaction never commits, so a DjangoScope ending inside it
        # would wait for a commit forever. Inside a capture, it hands its intents
        # to the capture instead, and run_all() runs them here.
        order = Order.objects.create(customer="ada", total_cents=100)
        with capture() as captured:
            with airlock.scope():  # what AirlockMiddleware or @airlock.scoped() opens
                order.process()
            captured.run_all()

        captured.assert_enqueued(send_confirmation, order_id=order.pk)
        self.assertEqual(
            sorted(Effect.objects.values_list("task", flat=True)),
            ["notify_warehouse", "send_confirmation"],
        )


# --8<-- [end:test]
