"""How to test code that enqueues, with pytest-django."""

# --8<-- [start:test]
import pytest
from shop.models import Effect, Order

import airlock


@pytest.mark.django_db
def test_process_enqueues_the_notifications():
    order = Order.objects.create(customer="ada", total_cents=100)
    with airlock.scope(policy=airlock.DropAll()) as scope:
        order.process()
    assert [intent.name for intent in scope.intents] == [
        "notify_warehouse",
        "send_confirmation",
    ]


@pytest.mark.django_db
def test_checkout_sends_after_commit(client, django_capture_on_commit_callbacks):
    # The test runs inside a transaction that never commits, so the effects
    # wait in on_commit callbacks: run them, as the commit would.
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/docs/checkout/", {"customer": "ada"})
    assert sorted(Effect.objects.values_list("task", flat=True)) == [
        "notify_warehouse",
        "send_confirmation",
    ]


# --8<-- [end:test]
