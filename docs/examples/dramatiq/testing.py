from app import send_email

import airlock


def register(user_id: int) -> None:
    airlock.enqueue(send_email, user_id, _dispatch_options={"delay": 60_000})


def test_register_sends_a_welcome_email() -> None:
    # No broker, no worker: inspect the buffer, then drop it.
    with airlock.scope(policy=airlock.DropAll()) as scope:
        register(user_id=7)
    [intent] = scope.intents
    assert intent.task is send_email and intent.args == (7,)
    assert intent.dispatch_options == {"delay": 60_000}
