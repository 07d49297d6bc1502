"""Bad input fails the intent it concerns, with a clear error, and loses nothing."""

from __future__ import annotations

import socket
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import rq_jobs
from conftest import results
from redis import Redis
from rq import Queue

import airlock
import airlock_rq

pytestmark = pytest.mark.redis

BAD = {"queue": "rq_bad"}


def count(connection: Redis, name: str) -> int:
    return Queue(name, connection=connection).count


def flush(*calls: tuple[Any, tuple[Any, ...], Any], **scope_kwargs: Any) -> None:
    """Enqueue each (task, args, dispatch options) in an rq scope, then flush."""
    with airlock.scope(executor="rq", **scope_kwargs):
        for task, args, options in calls:
            airlock.enqueue(task, *args, _dispatch_options=options)


def test_unknown_option_fails_that_intent_and_keeps_the_rest(configured: Redis) -> None:
    record = rq_jobs.record
    with pytest.raises(airlock.DispatchError) as caught:
        flush(
            (record, ("x", 1), BAD),
            (record, ("x", 2), {**BAD, "countdown": 5}),
            (record, ("x", 3), BAD),
        )
    error = caught.value
    assert [i.args for i in error.dispatched] == [("x", 1)]
    [(intent, exc)] = error.failed
    assert intent.args == ("x", 2)
    assert isinstance(exc, airlock.UsageError)
    assert "'countdown'" in str(exc)
    assert "job_timeout" in str(exc)
    assert [i.args for i in error.pending] == [("x", 3)]
    assert count(configured, "rq_bad") == 1


@pytest.mark.parametrize(
    ("third", "message"),
    [
        ((("five", threading.Lock()), BAD), "pickle"),
        ((("five", 3), {**BAD, "countdown": 5}), "unknown rq option(s) 'countdown'"),
        ((("five", 3), {"queue": ""}), "must be an rq queue name"),
    ],
    ids=["unserializable-argument", "unknown-option", "bad-queue"],
)
def test_the_third_of_five_fails(
    configured: Redis, run_worker: Any, third: tuple[tuple[Any, ...], Any], message: str
) -> None:
    record = rq_jobs.record
    args, options = third
    calls = [(record, ("five", n), BAD) for n in (1, 2)]
    calls += [(record, args, options)]
    calls += [(record, ("five", n), BAD) for n in (4, 5)]
    with pytest.raises(airlock.DispatchError) as caught:
        flush(*calls)
    error = caught.value
    assert [i.args for i in error.dispatched] == [("five", 1), ("five", 2)]
    [(intent, exc)] = error.failed
    assert intent.args == args
    assert message in str(exc).lower()
    assert caught.value.__cause__ is exc
    assert [i.args for i in error.pending] == [("five", 4), ("five", 5)]
    run_worker("rq_bad")
    assert results(configured, "five") == ["1", "2"]


def test_continue_mode_sends_everything_else(configured: Redis) -> None:
    record = rq_jobs.record
    with pytest.raises(airlock.DispatchError) as caught:
        flush(
            (record, ("x", 1), BAD),
            (record, ("x", 2), {"queue": 42}),
            (record, ("x", 3), BAD),
            on_dispatch_error="continue",
        )
    assert [i.args for i in caught.value.dispatched] == [("x", 1), ("x", 3)]
    assert [i.args for i, _ in caught.value.failed] == [("x", 2)]
    assert caught.value.pending == []
    assert count(configured, "rq_bad") == 2


SOON = datetime.now(timezone.utc) + timedelta(hours=1)


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ({"enqueue_in": 60}, "'enqueue_in' must be a datetime.timedelta, got 60 (int)"),
        ({"enqueue_at": "2030-01-01"}, "'enqueue_at' must be a datetime.datetime, got '2030"),
        ({"enqueue_at": SOON, "enqueue_in": timedelta(1)}, "'enqueue_in' (a timedelta), not both"),
    ],
)
def test_a_bad_schedule_fails_that_intent(
    configured: Redis, schedule: dict[str, Any], message: str
) -> None:
    record = rq_jobs.record
    with pytest.raises(airlock.DispatchError) as caught:
        flush(
            (record, ("x", 1), BAD),
            (record, ("x", 2), {**BAD, **schedule}),
            (record, ("x", 3), BAD),
        )
    error = caught.value
    [(intent, exc)] = error.failed
    assert intent.args == ("x", 2)
    assert isinstance(exc, airlock.UsageError)
    assert message in str(exc)
    assert [i.args for i in error.dispatched] == [("x", 1)]
    assert [i.args for i in error.pending] == [("x", 3)]
    assert count(configured, "rq_bad") == 1
    assert Queue("rq_bad", connection=configured).scheduled_job_registry.count == 0


def test_arguments_rq_cannot_serialize(configured: Redis) -> None:
    record = rq_jobs.record
    with pytest.raises(airlock.DispatchError) as caught:
        flush(
            (record, ("x", 1), BAD),
            (record, ("x", threading.Lock()), BAD),
            (record, ("x", 3), BAD),
        )
    error = caught.value
    assert [i.args[1] for i in error.dispatched] == [1]
    [(intent, exc)] = error.failed
    assert isinstance(intent.args[1], type(threading.Lock()))
    assert "pickle" in str(exc).lower()
    assert [i.args[1] for i in error.pending] == [3]
    assert count(configured, "rq_bad") == 1


def test_functions_a_worker_cannot_import(configured: Redis) -> None:
    def nested(value: int) -> None:
        """Defined inside a test: no worker can import it."""

    with pytest.raises(airlock.DispatchError) as caught:
        flush((nested, (1,), None), (lambda: None, (), None), ("not_a_path", (), None))
    assert len(caught.value.failed) == 1
    assert "cannot be imported" in str(caught.value.failed[0][1])
    assert len(caught.value.pending) == 2
    assert count(configured, "default") == 0


def test_no_connection_names_the_three_ways() -> None:
    with pytest.raises(airlock.DispatchError) as caught:
        flush((rq_jobs.record, ("x", 1), None), (rq_jobs.record, ("x", 2), None))
    error = caught.value
    assert error.dispatched == []
    assert error.pending == []
    assert len(error.failed) == 2
    message = str(error.failed[0][1])
    assert "airlock_rq.configure(connection=" in message
    assert "AIRLOCK_RQ_URL environment variable" in message
    assert "AIRLOCK_RQ_URL setting" in message
    with pytest.raises(airlock.UsageError, match="no Redis connection"):
        airlock_rq.rq_executor(airlock.Intent(rq_jobs.record, ("x", 1)))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_redis_down_at_flush_reports_every_intent() -> None:
    airlock_rq.configure(url=f"redis://127.0.0.1:{_closed_port()}/4")
    down = {"queue": "rq_down"}
    calls = [(rq_jobs.record, ("down", n), down) for n in range(3)]
    calls.append((rq_jobs.record, ("down", 9), {"depends_on": "x"}))
    with pytest.raises(airlock.DispatchError) as caught:
        flush(*calls)
    error = caught.value
    assert error.dispatched == []
    assert [i.args[1] for i, _ in error.failed] == [0, 1, 2]
    assert all("Connection" in type(exc).__name__ for _, exc in error.failed)
    assert [i.args[1] for i in error.pending] == [9]


def test_configure_rejects_bad_values(rq_url: str) -> None:
    with pytest.raises(airlock.UsageError, match=r"redis\.Redis"):
        airlock_rq.configure(connection=rq_url)  # type: ignore[arg-type]
    with pytest.raises(airlock.UsageError, match="not both"):
        airlock_rq.configure(connection=Redis(), url=rq_url)
    with pytest.raises(airlock.UsageError, match="queue name"):
        airlock_rq.configure(default_queue="")
