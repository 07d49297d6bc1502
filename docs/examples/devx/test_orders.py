"""Testing code that enqueues, with the airlock_capture fixture: no broker, no mocks."""

import pytest

import airlock
from airlock.testing import call, capture
from orders import (
    charge_card,
    import_orders,
    mark_paid,
    notify_warehouse,
    send_receipt,
)


def test_mark_paid_charges_then_notifies(airlock_capture):
    mark_paid(42, amount=100)

    airlock_capture.assert_enqueued(charge_card, 42, 100)
    airlock_capture.assert_enqueued(notify_warehouse, 42, _dispatch_options={"queue": "warehouse"})
    airlock_capture.assert_not_enqueued(send_receipt)  # charge_card sends it, later
    airlock_capture.assert_enqueued_in_order([charge_card, call(notify_warehouse, 42)])


def test_the_effects_run_in_process_when_asked(airlock_capture):
    mark_paid(42, amount=100)

    assert airlock_capture.run_all() == [
        "charged 100 for order 42",
        "warehouse told about order 42",
    ]
    airlock_capture.assert_enqueued(send_receipt, 42)  # enqueued by charge_card
    assert airlock_capture.run_all() == ["receipt for order 42"]


def test_a_failing_task_is_named(airlock_capture):
    mark_paid(7, amount=0)

    with pytest.raises(airlock.DispatchError, match=r"<Intent charge_card\(7, 0\)> failed"):
        airlock_capture.run_all()


def test_a_bulk_import_releases_into_the_test(airlock_capture):
    import_orders([(1, 10), (2, 20)])

    airlock_capture.assert_enqueued(charge_card, times=2)
    assert airlock_capture.names == [
        "charge_card",
        "notify_warehouse",
        "charge_card",
        "notify_warehouse",
    ]


def test_a_failed_import_lets_nothing_out(airlock_capture):
    with pytest.raises(ValueError, match="negative amount"):
        import_orders([(1, 10), (2, -5)])

    airlock_capture.assert_nothing_enqueued()


def test_capture_part_of_a_test():
    with capture() as captured:
        mark_paid(3, amount=30)
    captured.assert_enqueued(charge_card, 3, 30)
