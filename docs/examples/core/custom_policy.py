"""A policy is any object with on_enqueue(intent) and allows(intent)."""

import airlock


class OnlyQueue:
    """Let through only intents routed to one queue."""

    def __init__(self, queue: str) -> None:
        self.queue = queue

    def on_enqueue(self, intent: airlock.Intent) -> None:
        pass

    def allows(self, intent: airlock.Intent) -> bool:
        options = intent.dispatch_options or {}
        return options.get("queue") == self.queue


ran = []


def task(name: str) -> None:
    ran.append(name)


with airlock.scope(policy=OnlyQueue("emails")):
    airlock.enqueue(task, "welcome", _dispatch_options={"queue": "emails"})
    airlock.enqueue(task, "report", _dispatch_options={"queue": "reports"})
assert ran == ["welcome"]
