"""Effects are buffered in the scope and released when the block ends cleanly."""

import airlock

sent = []


def send_email(user_id: int) -> None:
    sent.append(user_id)


with airlock.scope() as scope:
    airlock.enqueue(send_email, user_id=123)
    assert sent == []  # nothing escaped yet
    assert [intent.name for intent in scope.intents] == ["send_email"]

assert sent == [123]  # dispatched at the edge of the scope
