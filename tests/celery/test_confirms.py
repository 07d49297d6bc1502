"""Publisher confirms on RabbitMQ: what the broker did not take is never reported dispatched.

Each test flushes into RabbitMQ and then reads what the queue really holds.
The app here routes to queues no worker consumes: ``celery_confirms``, and
``celery_confirms_full``, which holds one message and refuses (nacks) more.
"""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import pytest
from kombu import Connection, Exchange, Queue
from proxy import FreezingProxy
from worker_app import make_app

import airlock
from airlock_celery import CeleryExecutor, DeliveryUncertain, MessageRefused

QUEUE = "celery_confirms"
FULL = "celery_confirms_full"
NOWHERE = "celery_confirms_nowhere"  # an exchange with no queue bound to it
MISSING = "celery_confirms_missing"  # an exchange that does not exist


def app_settings():
    return {
        "task_default_queue": QUEUE,
        "task_default_exchange": QUEUE,
        "task_default_routing_key": QUEUE,
        "task_queues": [
            Queue(QUEUE, Exchange(QUEUE), routing_key=QUEUE),
            Queue(FULL, queue_arguments={"x-max-length": 1, "x-overflow": "reject-publish"}),
        ],
    }


@pytest.fixture(scope="module")
def app(amqp_url, observe_url):
    app = make_app(amqp_url, observe_url, name="airlock_celery_confirms")
    app.conf.update(app_settings())
    with Connection(amqp_url) as connection:
        channel = connection.default_channel
        Exchange(NOWHERE, type="direct")(channel).declare()
        for queue in (QUEUE, FULL):
            app.amqp.queues[queue](channel).declare()
    yield app
    app.close()
    with Connection(amqp_url) as connection:
        channel = connection.default_channel
        for queue in (QUEUE, FULL):
            channel.queue_delete(queue)
        channel.exchange_delete(NOWHERE)


@pytest.fixture
def arrived(app, amqp_url):
    """Empty the queues; then return the values of the messages a queue received."""

    def take(queue: str = QUEUE) -> list[int]:
        values = []
        with Connection(amqp_url) as connection:
            channel = connection.default_channel
            while (message := channel.basic_get(queue, no_ack=True)) is not None:
                args, _, _ = json.loads(message.body)
                values.append(args[1])
        return values

    for queue in (QUEUE, FULL):
        take(queue)
    return take


def flush(app, values, options=None, **scope_kwargs):
    """Flush one record intent per value; return the scope's intents and its DispatchError."""
    record = app.tasks["airlock_tests.record"]
    scopes = []
    options = options or {}

    def run():
        with airlock.scope(**scope_kwargs) as scope:
            scopes.append(scope)
            for value in values:
                airlock.enqueue(record, "confirms", value, _dispatch_options=options.get(value))

    with pytest.raises(airlock.DispatchError) as caught:
        run()
    return scopes[0].intents, caught.value


def causes(error):
    return [type(cause) for _, cause in error.failed]


def test_a_message_to_a_missing_exchange_is_not_counted_as_sent(app, arrived):
    """The broker closes the channel and drops what follows: 1 of 4 arrived, 4 'sent'."""
    options = {1: {"exchange": MISSING, "routing_key": QUEUE}}
    intents, error = flush(app, range(4), options, executor=CeleryExecutor())
    # The first may have been confirmed before the channel closed; nothing else was.
    assert error.dispatched in ([], intents[:1])
    # The broker's error reaches the client at the end of the batch, or earlier,
    # as py-amqp reads the socket before a later publish: what follows is pending.
    failed = [intent for intent, _ in error.failed]
    assert failed + error.pending == intents[len(error.dispatched) :]
    assert intents[1] in failed
    assert causes(error) == [DeliveryUncertain] * len(failed)
    assert "no exchange" in str(error.failed[0][1])
    got = arrived()
    assert set(got) <= {0}  # the messages after the broken one never reach a queue
    assert len(got) >= len(error.dispatched)


def test_an_unroutable_message_is_refused_and_the_others_go_out(app, arrived):
    options = {1: {"exchange": NOWHERE, "routing_key": "no-queue"}}
    intents, error = flush(app, range(4), options, executor=CeleryExecutor())
    assert error.dispatched == [intents[0], intents[2], intents[3]]
    ((intent, cause),) = error.failed
    assert intent is intents[1]
    assert isinstance(cause, MessageRefused)
    assert "unroutable" in str(cause)
    assert NOWHERE in str(cause)
    assert error.pending == []
    assert arrived() == [0, 2, 3]


def test_a_message_the_broker_nacks_is_refused(app, arrived):
    options = {value: {"queue": FULL} for value in range(3)}
    intents, error = flush(app, range(3), options, executor=CeleryExecutor())
    assert error.dispatched == intents[:1]
    assert [intent for intent, _ in error.failed] == intents[1:]
    assert causes(error) == [MessageRefused, MessageRefused]
    assert "basic.nack" in str(error.failed[0][1])
    assert arrived(FULL) == [0]


def test_kombus_own_confirm_publish_reads_the_same_answers(amqp_url, observe_url, arrived):
    """With ``confirm_publish`` py-amqp waits for each message: a nack stops the flush there."""
    confirming = make_app(amqp_url, observe_url, name="airlock_celery_confirm_publish")
    confirming.conf.update(app_settings(), broker_transport_options={"confirm_publish": True})
    try:
        options = {value: {"queue": FULL} for value in range(3)}
        unroutable = {3: {"exchange": NOWHERE, "routing_key": "no-queue"}}
        intents, error = flush(confirming, range(3), options, executor=CeleryExecutor())
        assert error.dispatched == intents[:1]
        ((intent, cause),) = error.failed
        assert intent is intents[1]
        assert isinstance(cause, MessageRefused)
        assert error.pending == intents[2:]
        intents, error = flush(confirming, range(3, 5), unroutable, executor=CeleryExecutor())
        assert error.dispatched == intents[1:]
        assert causes(error) == [MessageRefused]
    finally:
        confirming.close()
    assert arrived(FULL) == [0]
    assert arrived() == [4]


def test_an_eager_app_needs_no_broker_to_confirm(observe_url):
    with socket.create_server(("127.0.0.1", 0)) as probe:  # a port nothing listens on
        port = probe.getsockname()[1]
    eager = make_app(f"amqp://guest:guest@127.0.0.1:{port}//", observe_url, name="airlock_eager")
    eager.conf.task_always_eager = True
    ran = []

    @eager.task(name="airlock_tests.eager_probe", shared=False)
    def probe_task(value):
        ran.append(value)

    try:
        with airlock.scope(executor=CeleryExecutor()):
            airlock.enqueue(probe_task, 1)
    finally:
        eager.close()
    assert ran == [1]


def test_a_refusal_stops_the_flush_after_its_batch(app, arrived):
    options = {4: {"exchange": NOWHERE, "routing_key": "no-queue"}}
    intents, error = flush(app, range(8), options, executor=CeleryExecutor(batch_size=3))
    assert error.dispatched == [*intents[:4], intents[5]]  # batches [0 1 2] and [3 4 5]
    assert [intent for intent, _ in error.failed] == [intents[4]]
    assert error.pending == intents[6:]
    assert arrived() == [0, 1, 2, 3, 5]


def test_continue_mode_sends_the_batches_after_a_refusal(app, arrived):
    options = {4: {"exchange": NOWHERE, "routing_key": "no-queue"}}
    intents, error = flush(
        app, range(8), options, executor=CeleryExecutor(batch_size=3), on_dispatch_error="continue"
    )
    assert [intent for intent, _ in error.failed] == [intents[4]]
    assert error.dispatched == intents[:4] + intents[5:]
    assert arrived() == [0, 1, 2, 3, 5, 6, 7]


def test_each_intent_answers_for_its_own_messages_with_task_sent_events(app, arrived):
    """With ``task_send_sent_event`` every intent publishes two messages, confirmed together."""
    app.conf.task_send_sent_event = True
    try:
        options = {2: {"exchange": NOWHERE, "routing_key": "no-queue"}}
        intents, error = flush(app, range(5), options, executor=CeleryExecutor())
    finally:
        app.conf.task_send_sent_event = False
    assert [intent for intent, _ in error.failed] == [intents[2]]
    assert error.dispatched == intents[:2] + intents[3:]
    assert arrived() == [0, 1, 3, 4]


def test_a_single_dispatch_raises_the_refusal(app, arrived):
    record = app.tasks["airlock_tests.record"]
    intent = airlock.Intent(
        record, ("confirms", 9), {}, {"exchange": NOWHERE, "routing_key": "no-queue"}
    )
    with pytest.raises(MessageRefused, match="unroutable"):
        CeleryExecutor()(intent)
    CeleryExecutor()(airlock.Intent(record, ("confirms", 10), {}, {}))
    assert arrived() == [10]


def test_mandatory_chosen_by_the_call_is_kept(app, arrived):
    """``mandatory=False`` asks RabbitMQ to drop an unroutable message silently: it is honoured."""
    record = app.tasks["airlock_tests.record"]
    options = {"exchange": NOWHERE, "routing_key": "no-queue", "mandatory": False}
    with airlock.scope(executor=CeleryExecutor()):
        airlock.enqueue(record, "confirms", 1, _dispatch_options=options)
    assert arrived() == []


def test_without_confirms_an_unroutable_message_counts_as_dispatched(app, arrived):
    """The documented cost of ``publisher_confirms=False``: the broker's drop goes unseen."""
    record = app.tasks["airlock_tests.record"]
    with airlock.scope(executor=CeleryExecutor(publisher_confirms=False)) as scope:
        for value in range(3):
            options = {"exchange": NOWHERE, "routing_key": "no-queue"} if value == 1 else None
            airlock.enqueue(record, "confirms", value, _dispatch_options=options)
    assert scope.is_flushed
    assert arrived() == [0, 2]


def test_a_connection_lost_between_flushes_is_opened_again(amqp_url, observe_url, arrived):
    """The pooled connection died while idle (a broker restart): the next flush reconnects."""
    target = urlsplit(amqp_url)
    proxy = FreezingProxy((target.hostname, target.port))
    proxied = target._replace(netloc=f"{target.username}:{target.password}@127.0.0.1:{proxy.port}")
    app = make_app(proxied.geturl(), observe_url, name="airlock_celery_confirms_restart")
    app.conf.update(task_default_queue=QUEUE, task_default_exchange=QUEUE)
    app.conf.update(task_default_routing_key=QUEUE)
    record = app.tasks["airlock_tests.record"]
    executor = CeleryExecutor()
    try:
        for value in range(3):
            with airlock.scope(executor=executor):
                airlock.enqueue(record, "confirms", value)
            proxy.cut()
    finally:
        proxy.close()
        app.close()
    assert arrived() == [0, 1, 2]


@pytest.mark.parametrize("value", [None, 1, "yes"])
def test_publisher_confirms_must_be_a_bool(value):
    with pytest.raises(airlock.UsageError, match="publisher_confirms"):
        CeleryExecutor(publisher_confirms=value)
