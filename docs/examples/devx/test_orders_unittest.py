"""The same checks under unittest: ``capture()`` needs neither pytest nor its plugin."""

import unittest

from airlock.testing import capture
from orders import charge_card, import_orders, mark_paid, notify_warehouse, send_receipt


class MarkPaidTests(unittest.TestCase):
    def test_mark_paid_charges_then_notifies(self):
        with capture() as captured:
            mark_paid(42, amount=100)

        captured.assert_enqueued(charge_card, 42, 100)
        captured.assert_enqueued(notify_warehouse, 42, _dispatch_options={"queue": "warehouse"})
        captured.assert_not_enqueued(send_receipt)

    def test_the_effects_run_in_process_when_asked(self):
        with capture() as captured:
            mark_paid(42, amount=100)
            ran = captured.run_all()  # inside the block: the capture is still open

        self.assertEqual(ran, ["charged 100 for order 42", "warehouse told about order 42"])
        captured.assert_enqueued(send_receipt, 42)  # enqueued by charge_card

    def test_a_failed_import_lets_nothing_out(self):
        with capture() as captured, self.assertRaises(ValueError):
            import_orders([(1, 10), (2, -5)])

        captured.assert_nothing_enqueued()


if __name__ == "__main__":
    unittest.main()
