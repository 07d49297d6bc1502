"""Before airlock: the effects fire inside the domain method, for every caller."""

sent = []


def notify_warehouse(order_id: int) -> None:
    sent.append(("notify_warehouse", order_id))


def send_confirmation_email(order_id: int) -> None:
    sent.append(("send_confirmation_email", order_id))


# --8<-- [start:order]
class Order:
    def __init__(self, order_id: int) -> None:
        self.id = order_id

    def process(self):
        self.status = "processed"
        notify_warehouse(self.id)
        send_confirmation_email(self.id)


# --8<-- [end:order]

# A migration that only meant to fix statuses has just emailed every customer.
for order_id in (1, 2, 3):
    Order(order_id).process()
assert len(sent) == 6
