from orders import mark_paid, notify_warehouse


def test_notifies_the_shipping_queue(airlock_capture):
    mark_paid(42, amount=100)
    airlock_capture.assert_enqueued(notify_warehouse, 42, _dispatch_options={"queue": "shipping"})
