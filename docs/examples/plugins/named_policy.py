"""A plugin that registers a policy by name, and selecting it by that name."""

import airlock


class OnlyTasks:
    """Lets through the intents whose task name is in ``names``; drops the others."""

    def __init__(self, *names: str) -> None:
        self.names = set(names)

    def on_enqueue(self, intent: airlock.Intent) -> None:
        """Accept every intent into the buffer (so that tests can still inspect it)."""

    def allows(self, intent: airlock.Intent) -> bool:
        """Allow only the listed tasks at flush."""
        return intent.name in self.names


class NotificationsOnly:
    """The plugin: its hook offers a zero-argument factory under a name."""

    @airlock.hookimpl
    def airlock_register_policies(self) -> dict[str, object]:
        return {"notifications_only": lambda: OnlyTasks("notify", "send_email")}


sent: list[str] = []


def notify(user_id: int) -> None:
    sent.append(f"notify {user_id}")


def recompute(user_id: int) -> None:
    sent.append(f"recompute {user_id}")


airlock.plugins.register(NotificationsOnly(), name="notifications")
try:
    with airlock.scope(policy="notifications_only"):
        airlock.enqueue(notify, 7)
        airlock.enqueue(recompute, 7)
finally:
    airlock.plugins.unregister("notifications")
assert sent == ["notify 7"]
