"""Bad input and broker failures: clear errors, and every intent accounted for.

These look at the broker directly (Redis database 1, a queue no worker reads).
"""

from __future__ import annotations

import json
import sys
from urllib.parse import urlsplit

import pytest
from celery import Celery
from kombu import Producer
from kombu.exceptions import EncodeError
from proxy import DyingProxy
from worker_app import make_app

import airlock
from airlock_celery import CeleryExecutor, celery_executor

UNREAD = "celery_unread"


@pytest.fixture
def unread(redis_broker):
    """The Redis queue no worker consumes; empty before and after each test."""
    redis_broker.delete(UNREAD)
    yield lambda: [json.loads(raw) for raw in reversed(redis_broker.lrange(UNREAD, 0, -1))]
    redis_broker.delete(UNREAD)


@pytest.fixture(scope="module")
def app(broker_redis_url, observe_url):
    app = make_app(broker_redis_url, observe_url, name="airlock_celery_errors")
    yield app
    app.close()


def failing_flush(fill, **scope_kwargs):
    """Run ``fill()`` in a scope whose flush must fail; return its intents and the error."""
    scopes = []

    def run():
        with airlock.scope(**scope_kwargs) as scope:
            scopes.append(scope)
            fill()

    with pytest.raises(airlock.DispatchError) as caught:
        run()
    return scopes[0].intents, caught.value


def to_unread(app, *values, options=None):
    record = app.tasks["airlock_tests.record"]
    for value in values:
        airlock.enqueue(
            record, "unread", value, _dispatch_options={"queue": UNREAD, **(options or {})}
        )


def test_unserializable_argument_fails_at_flush_naming_the_intent(app, unread):
    intents, error = failing_flush(
        lambda: to_unread(app, "before", object(), "after"), executor="celery"
    )
    dispatched, failed, pending = intents[:1], intents[1:2], intents[2:]
    assert error.dispatched == dispatched
    assert [intent for intent, _ in error.failed] == failed
    assert isinstance(error.failed[0][1], EncodeError)
    assert error.pending == pending
    assert "record('unread', <object object" in str(error)
    assert [json.loads(_body(m))[0][1] for m in unread()] == ["before"]


def test_broker_dying_mid_batch_accounts_for_every_intent(app, unread, redis_url):
    target = urlsplit(redis_url)
    proxy = DyingProxy((target.hostname, target.port), limit=10)
    dying = make_app(
        f"redis://127.0.0.1:{proxy.port}/1",
        f"redis://{target.hostname}:{target.port}/2",
        name="airlock_celery_dying",
    )
    dying.conf.broker_connection_max_retries = 1
    dying.conf.task_publish_retry_policy = {
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.1,
    }
    executor = CeleryExecutor(batch_size=10)
    try:
        intents, error = failing_flush(lambda: to_unread(dying, *range(35)), executor=executor)
    finally:
        proxy.die()
        dying.close()
    failed = [intent for intent, _ in error.failed]
    assert error.dispatched == intents[:10]
    assert failed == intents[10 : 10 + len(failed)]
    assert error.pending == intents[10 + len(failed) :]
    # With kombu's batch the whole second chunk is reported failed (its delivery is
    # uncertain); publishing one by one, only the message that met the dead broker.
    assert len(failed) == (10 if hasattr(Producer, "batch") else 1)
    assert [json.loads(_body(m))[0][1] for m in unread()] == list(range(10))


def test_app_without_a_broker_is_refused_and_nothing_after_it_is_lost(app, unread):
    lonely = Celery("airlock_celery_lonely", set_as_current=False)

    @lonely.task(name="airlock_tests.lonely", shared=False)
    def lonely_task() -> None:
        raise AssertionError("never runs")

    def fill():
        to_unread(app, "first")
        airlock.enqueue(lonely_task)
        to_unread(app, "third")

    intents, error = failing_flush(fill, executor="celery")
    assert error.dispatched == intents[:1]
    ((intent, cause),) = error.failed
    assert intent.task is lonely_task
    assert isinstance(cause, airlock.UsageError)
    assert "no broker configured" in str(cause)
    assert error.pending == intents[2:]
    assert len(unread()) == 1


def test_unknown_option_key_is_passed_to_celery_untouched(app, unread):
    """Celery does not reject unknown apply_async() keys: they travel as message properties."""
    with airlock.scope(executor="celery"):
        to_unread(app, "odd", options={"not_a_celery_option": "kept"})
    (message,) = unread()
    assert message["properties"]["not_a_celery_option"] == "kept"


def test_plain_callables_run_in_process_in_order(app, unread):
    seen = []

    def local(value):
        seen.append((value, len(unread())))

    with airlock.scope(executor="celery"):
        to_unread(app, 1)
        airlock.enqueue(local, "after one message")
        to_unread(app, 2)
    assert seen == [("after one message", 1)]
    assert len(unread()) == 2


def test_failing_plain_callable_keeps_the_books(app, unread):
    def broken():
        raise KeyError("boom")

    def fill():
        to_unread(app, 1)
        airlock.enqueue(broken)
        to_unread(app, 2)

    intents, error = failing_flush(fill, executor="celery")
    assert error.dispatched == intents[:1]
    assert [intent for intent, _ in error.failed] == intents[1:2]
    assert error.pending == intents[2:]
    assert len(unread()) == 1


def test_continue_mode_reports_failures_and_sends_the_rest(app, unread):
    intents, error = failing_flush(
        lambda: to_unread(app, "a", object(), "c"), executor="celery", on_dispatch_error="continue"
    )
    assert error.dispatched == [intents[0], intents[2]]
    assert error.pending == []
    assert len(unread()) == 2


def test_single_intent_call(app, unread):
    record = app.tasks["airlock_tests.record"]
    intent = airlock.Intent(record, ("unread", "single"), {}, {"queue": UNREAD})
    celery_executor(intent)
    assert len(unread()) == 1


def test_a_string_that_names_no_registered_task_is_never_imported_or_run(
    app, unread, probe, make_current
):
    def fill():
        to_unread(app, "before")
        airlock.enqueue("airlock_celery_probe.run", "from a string")
        to_unread(app, "after")

    make_current(app)
    intents, error = failing_flush(fill, executor="celery")
    assert error.dispatched == intents[:1]
    ((intent, cause),) = error.failed
    assert intent is intents[1]
    assert type(cause) is airlock.UsageError
    assert (
        "'airlock_celery_probe.run' is not a task registered on the Celery app"
        " 'airlock_celery_errors'"
    ) in str(cause)
    assert "never imports it or runs it in this process" in str(cause)
    assert "enqueue the task object itself" in str(cause)
    assert error.pending == intents[2:]
    assert not probe.exists()  # the module was not imported, its function not run
    assert "airlock_celery_probe" not in sys.modules
    assert [json.loads(_body(m))[0][1] for m in unread()] == ["before"]


def test_a_string_names_a_task_registered_on_the_current_app(app, unread, make_current):
    make_current(app)
    with airlock.scope(executor="celery"):
        airlock.enqueue(
            "airlock_tests.record", "unread", "by name", _dispatch_options={"queue": UNREAD}
        )
    (message,) = unread()
    assert message["headers"]["task"] == "airlock_tests.record"


def test_the_apps_own_task_modules_are_imported_before_a_name_is_refused(
    broker_redis_url, observe_url, unread, probe, make_current
):
    listing = make_app(broker_redis_url, observe_url, name="airlock_celery_listing")
    listing.conf.imports = ["airlock_celery_probe_tasks"]
    make_current(listing)
    try:
        with airlock.scope(executor="celery"):
            airlock.enqueue("airlock_probe.listed", 1, _dispatch_options={"queue": UNREAD})
    finally:
        listing.close()
    (message,) = unread()
    assert message["headers"]["task"] == "airlock_probe.listed"


@pytest.mark.parametrize("size", [0, -1, True, "10"])
def test_batch_size_must_be_a_positive_integer(size):
    with pytest.raises(airlock.UsageError, match="batch_size"):
        CeleryExecutor(batch_size=size)


def _body(message):
    import base64

    return base64.b64decode(message["body"])
