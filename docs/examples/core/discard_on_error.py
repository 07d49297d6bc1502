"""An exception inside the scope discards everything it buffered."""

import airlock

sent = []


def send_email(user_id: int) -> None:
    sent.append(user_id)


try:
    with airlock.scope():
        airlock.enqueue(send_email, user_id=123)
        raise ValueError("payment declined")
except ValueError:
    pass

assert sent == []  # the email about a failed order never went out
