"""Calls a type checker must flag: each one carries an expect-error marker."""

import airlock


def send_email(user_id: int, *, subject: str = "") -> None:
    """A task with a typed signature."""


with airlock.scope():
    airlock.enqueue(send_email, "one")  # expect-error
    airlock.enqueue(send_email, user_id=1, subjet="typo")  # expect-error
    airlock.enqueue(send_email)  # expect-error
    airlock.enqueue(send_email, 1, 2)  # expect-error
