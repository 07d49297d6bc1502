"""The Order of "The problem", with intents: the caller's scope decides when they escape."""

import airlock

log = []


def notify_warehouse(order_id: int) -> None:
    log.append(("notify_warehouse", order_id))


def send_confirmation_email(order_id: int) -> None:
    log.append(("send_confirmation_email", order_id))


class Order:
    def __init__(self, order_id: int) -> None:
        self.id = order_id
        self.status = "new"

    def process(self) -> None:
        self.status = "processed"
        airlock.enqueue(notify_warehouse, self.id)  # recorded in the caller's scope
        airlock.enqueue(send_confirmation_email, self.id)  # nothing has run yet


# A view: effects go out when the request's scope ends.
with airlock.scope():
    Order(1).process()
assert log == [("notify_warehouse", 1), ("send_confirmation_email", 1)]

# A migration or fixture load: the same code, nothing escapes.
with airlock.scope(policy=airlock.DropAll()) as scope:
    Order(2).process()
assert len(scope.intents) == 2  # expressed, inspectable ...
assert len(log) == 2  # ... and held back
