"""Choosing the capture's policy for a module, and overriding it for one test."""

import pytest

import airlock
from orders import charge_card, mark_paid, notify_warehouse, order_total

pytestmark = pytest.mark.airlock(policy=airlock.AssertNoEffects())


def test_pricing_is_pure(airlock_capture):
    assert order_total([5, 10]) == 15  # an enqueue here would fail the test at its call


def test_paying_is_not(airlock_capture):
    with pytest.raises(airlock.PolicyViolation, match="charge_card"):
        mark_paid(1, amount=10)


@pytest.mark.airlock(policy=airlock.BlockTasks({"charge_card"}), executor="sync")
def test_all_but_charging_runs_when_the_test_passes(airlock_capture):
    mark_paid(1, amount=10)
    airlock_capture.assert_enqueued(charge_card, 1, 10)  # buffered, dropped at the end
    airlock_capture.assert_enqueued(notify_warehouse, 1)  # buffered, runs at the end


@pytest.mark.parametrize(
    "policy",
    [
        pytest.param("drop_all", marks=pytest.mark.airlock(policy="drop_all")),
        pytest.param("dedupe", marks=pytest.mark.airlock(policy=airlock.Dedupe)),
    ],
)
def test_one_test_under_several_policies(airlock_capture, policy):
    airlock.enqueue(notify_warehouse, 1)
    airlock.enqueue(notify_warehouse, 1)
    airlock_capture.assert_enqueued(notify_warehouse, 1, times=2)  # the policy judges at the end
