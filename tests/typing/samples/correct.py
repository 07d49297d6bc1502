"""Calls a type checker must accept."""

import airlock


def send_email(user_id: int, *, subject: str = "") -> None:
    """A task with a typed signature."""


with airlock.scope():
    airlock.enqueue(send_email, 1)
    airlock.enqueue(send_email, user_id=1, subject="hi")
    airlock.enqueue(send_email, 1, _dispatch_options={"countdown": 5})
    airlock.enqueue("app.tasks.send_email", 1, anything=2)
