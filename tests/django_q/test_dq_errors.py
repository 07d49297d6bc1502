"""Bad input and a broker that is down: a clear error, every intent accounted for."""

from __future__ import annotations

import socket
from typing import Any

import pytest
import redis
from django_q.models import OrmQ
from dqapp import tasks

import airlock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def flush(*calls: tuple[Any, tuple[Any, ...], dict[str, Any] | None], **scope: Any) -> None:
    """Enqueue each ``(task, args, options)`` in one scope, which flushes at its end."""
    with airlock.scope(**scope):
        for task, args, options in calls:
            airlock.enqueue(task, *args, _dispatch_options=options)


#: A cluster name no qcluster of the suite serves: its queue shows exactly what was sent.
IDLE = {"cluster": "airlock_idle"}


def queued_args() -> list[tuple[Any, ...]]:
    """The arguments of the tasks waiting on the ORM broker for the idle cluster."""
    from django_q.signing import SignedPackage

    rows = OrmQ.objects.filter(key=IDLE["cluster"]).order_by("id")
    return [tuple(SignedPackage.loads(row.payload)["args"]) for row in rows]


def nested_task() -> Any:
    def inner(value: object) -> None:
        """Not importable by a worker."""

    return inner


@pytest.mark.parametrize(
    ("task", "message"),
    [
        (lambda value: None, "cannot be imported"),
        (nested_task(), "cannot be imported"),
        ("record", "is not a dotted path"),
    ],
)
def test_a_task_a_worker_cannot_import(task: Any, message: str) -> None:
    with pytest.raises(airlock.DispatchError) as caught:
        flush(
            (task, (1,), IDLE),
            executor="django_q",
        )
    [(_, reason)] = caught.value.failed
    assert isinstance(reason, airlock.UsageError)
    assert message in str(reason)
    assert queued_args() == []


def test_unknown_options_name_the_valid_ones() -> None:
    with pytest.raises(airlock.DispatchError) as caught:
        flush(
            (tasks.record, ("k", 1), IDLE),
            (tasks.record, ("k", 2), {**IDLE, "countdown": 5}),
            (tasks.record, ("k", 3), IDLE),
        )
    error = caught.value
    assert [i.args for i in error.dispatched] == [("k", 1)]
    [(_, reason)] = error.failed
    assert isinstance(reason, airlock.UsageError)
    assert "'countdown'" in str(reason)
    assert "q_options" in str(reason)
    assert "group" in str(reason)
    assert [i.args for i in error.pending] == [("k", 3)]
    assert queued_args() == [("k", 1)]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"timeout": "soon"}, "'timeout' must be a number of seconds"),
        ({"group": 3}, "'group' must be a non-empty string"),
        ({"task_name": "x" * 101}, "at most 100 characters"),
        ({"hook": 5}, "'hook' must be a function or its dotted path"),
        ({"broker": "redis"}, "must be a django_q.brokers.Broker"),
        ({"q_options": [1]}, "'q_options' must be a mapping"),
        ({"group": "a", "q_options": {"group": "b"}}, "given both in q_options"),
        ({"chain": []}, "unknown django-q2 option"),
    ],
)
def test_bad_option_values(options: dict[str, Any], message: str) -> None:
    with pytest.raises(airlock.DispatchError) as caught:
        flush(
            (tasks.record, ("k", 1), {**IDLE, **options}),
        )
    [(_, reason)] = caught.value.failed
    assert isinstance(reason, airlock.UsageError)
    assert message in str(reason)
    assert queued_args() == []


def test_keyword_arguments_async_task_would_take_as_options() -> None:
    scope = airlock.scope()
    with pytest.raises(airlock.DispatchError) as caught, scope:
        airlock.enqueue(tasks.takes_options_as_arguments, "k", group="mine", _dispatch_options=IDLE)
    [(_, reason)] = caught.value.failed
    assert "'group'" in str(reason)
    assert "Rename" in str(reason)
    assert queued_args() == []


def test_a_redis_broker_that_is_down(redis_broker: Any) -> None:
    redis_broker.connection = redis.Redis(port=closed_port())
    with pytest.raises(airlock.DispatchError) as caught:
        flush(
            (tasks.record, ("k", 1), IDLE),
            (tasks.record, ("k", 2), {"broker": redis_broker}),
            (tasks.record, ("k", 3), IDLE),
        )
    error = caught.value
    assert [i.args for i in error.dispatched] == [("k", 1)]
    [(_, reason)] = error.failed
    assert isinstance(reason, redis.ConnectionError)
    assert [i.args for i in error.pending] == [("k", 3)]
    assert queued_args() == [("k", 1)]
