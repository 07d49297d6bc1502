"""Lifecycle hooks: a plugin that counts what went out and what a policy dropped."""

from collections import Counter

import airlock


class Metrics:
    """Each hook takes only the keyword arguments it needs."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    @airlock.hookimpl
    def airlock_intent_dispatched(self, intent: airlock.Intent) -> None:
        self.counts[f"dispatched {intent.name}"] += 1

    @airlock.hookimpl
    def airlock_intent_dropped(self, intent: airlock.Intent, policy: object) -> None:
        self.counts[f"dropped {intent.name} by {type(policy).__name__}"] += 1

    @airlock.hookimpl
    def airlock_scope_discarded(self, intents: list[airlock.Intent]) -> None:
        self.counts["discarded"] += len(intents)


def send_email(user_id: int) -> None:
    """A task that runs in-process here."""


metrics = Metrics()
airlock.plugins.register(metrics, name="metrics")
try:
    with airlock.scope():
        airlock.enqueue(send_email, 1)
        with airlock.policy(airlock.DropAll()):
            airlock.enqueue(send_email, 2)
    try:
        with airlock.scope():
            airlock.enqueue(send_email, 3)
            raise RuntimeError("the request failed")
    except RuntimeError:
        pass
finally:
    airlock.plugins.unregister("metrics")
assert metrics.counts == {
    "dispatched send_email": 1,
    "dropped send_email by DropAll": 1,
    "discarded": 1,
}
