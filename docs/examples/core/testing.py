"""Testing without mocks or brokers: run the code under DropAll and read the buffer."""

import airlock


def send_receipt(order_id: int) -> None:
    raise AssertionError("tests never send receipts")


def mark_paid(order_id: int) -> str:
    airlock.enqueue(send_receipt, order_id, _dispatch_options={"queue": "emails"})
    return "paid"


def test_mark_paid_sends_a_receipt() -> None:
    with airlock.scope(policy=airlock.DropAll()) as scope:
        assert mark_paid(42) == "paid"
    [intent] = scope.intents
    assert intent.task is send_receipt
    assert intent.args == (42,)
    assert intent.dispatch_options == {"queue": "emails"}


test_mark_paid_sends_a_receipt()
