"""Testing code that enqueues Huey tasks, without Redis or a consumer."""

from tasks import send_email

import airlock


def register(user_id: int) -> None:
    airlock.enqueue(send_email, user_id)


def test_register_sends_a_welcome_email() -> None:
    with airlock.scope(policy=airlock.DropAll()) as scope:
        register(7)
    [intent] = scope.intents
    assert (intent.task, intent.args) == (send_email, (7,))
