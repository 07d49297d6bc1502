"""In-process effects: each records what it saw, from a separate database connection."""

from __future__ import annotations

import airlock

SENT: list[tuple[str, int, bool]] = []


def committed(order_id: int, using: str) -> bool:
    """Whether the order row is visible from another connection, i.e. committed."""
    from airtest.models import Order

    observer = "observer" if using == "default" else using
    return Order.objects.using(observer).filter(pk=order_id, status="processed").exists()


def notify_warehouse(order_id: int, using: str = "default") -> None:
    SENT.append(("notify_warehouse", order_id, committed(order_id, using)))


def send_confirmation(order_id: int, using: str = "default") -> None:
    SENT.append(("send_confirmation", order_id, committed(order_id, using)))


def fail(*args: object) -> None:
    raise RuntimeError("the broker is down")


@airlock.skip_argument_check
def unchecked(order_id: int) -> None:
    """A task exempt from the check at enqueue: a call that does not fit fails at the publish."""
    SENT.append(("unchecked", order_id, True))


def sent() -> list[str]:
    return [name for name, _, _ in SENT]


#: While True, ``flaky`` fails as a broker that is down would.
BROKEN: list[bool] = [False]


def flaky(number: int) -> None:
    if BROKEN[0]:
        raise ConnectionError("the broker is down")
    SENT.append(("flaky", number, True))


def remember(*args: object, **kwargs: object) -> None:
    """Records its exact arguments (in CALLS), to compare the fast path with the relay."""
    CALLS.append((args, kwargs))


CALLS: list[tuple[tuple[object, ...], dict[str, object]]] = []


#: What another connection saw right after a commit: (orders, outbox rows), per commit.
WITNESSED: list[tuple[int, int]] = []


def witness() -> None:
    """An on-commit callback: count the committed orders and outbox rows from outside."""
    from airlock_django.models import OutboxMessage
    from airtest.models import Order

    WITNESSED.append(
        (Order.objects.using("observer").count(), OutboxMessage.objects.using("observer").count())
    )
