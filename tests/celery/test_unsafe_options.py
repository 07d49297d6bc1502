"""``CeleryExecutor.unsafe_options``: each one really names code or changes decoding.

Every option in the declaration is shown doing so, through the executor, with
a plain dict as a stored row would hold it: a real worker runs a task the
intent did not name (``link``, ``link_error``, ``chain``, ``headers``), or the
message carries a callback or a codec the application did not choose
(``chord``, ``serializer``, ``compression``). The executor still honours them;
refusing them is for whoever publishes intents it did not build (the outbox
relay).
"""

from __future__ import annotations

import base64
import json

import pytest
from worker_app import make_app

import airlock
from airlock_celery import CeleryExecutor, celery_executor

UNREAD = "celery_unsafe"


def signature(label: str, value: str) -> dict[str, object]:
    """A signature as JSON holds it: record(label, value), ignoring any parent result."""
    return {
        "task": "airlock_tests.record",
        "args": [label, value],
        "kwargs": {},
        "options": {},
        "subtask_type": None,
        "immutable": True,
    }


def flush(task, *args, **options):
    with airlock.scope(executor=CeleryExecutor()):
        airlock.enqueue(task, *args, _dispatch_options=options)


def test_link_makes_the_worker_run_another_task(redis_side, observations):
    label = observations.label()
    flush(redis_side.task("record"), label, "named", link=signature(label, "linked"))
    assert sorted(s["value"] for s in observations.wait(label, 2)) == ["linked", "named"]


def test_link_error_makes_the_worker_run_another_task(redis_side, observations):
    label = observations.label()
    flush(redis_side.task("scoped_order"), label, True, link_error=signature(label, "errback"))
    assert [s["value"] for s in observations.wait(label)] == ["errback"]


def test_chain_makes_the_worker_run_another_task(redis_side, observations):
    label = observations.label()
    flush(redis_side.task("record"), label, "named", chain=[signature(label, "chained")])
    assert sorted(s["value"] for s in observations.wait(label, 2)) == ["chained", "named"]


def test_headers_make_the_worker_run_a_task_of_their_choice(redis_side, observations):
    label = observations.label()
    flush(redis_side.task("record"), label, "data", headers={"task": "airlock_tests.log_api_usage"})
    (seen,) = observations.wait(f"api-usage:{label}")
    assert seen["data"] == "data"  # log_api_usage(user_id=label, data="data") ran instead


@pytest.fixture
def unread(redis_broker, broker_redis_url, observe_url):
    """An app routing to a queue no worker reads; yields a reader of its messages."""
    app = make_app(broker_redis_url, observe_url, name="airlock_celery_unsafe")
    app.conf.update(
        task_default_queue=UNREAD, task_default_exchange=UNREAD, task_default_routing_key=UNREAD
    )
    redis_broker.delete(UNREAD)

    def messages():
        return [json.loads(raw) for raw in reversed(redis_broker.lrange(UNREAD, 0, -1))]

    yield app, messages
    redis_broker.delete(UNREAD)
    app.close()


def test_chord_puts_a_callback_in_the_message(unread):
    app, messages = unread
    flush(app.tasks["airlock_tests.record"], "x", chord=signature("x", "callback"))
    (message,) = messages()
    _, _, embed = json.loads(base64.b64decode(message["body"]))
    assert embed["chord"]["task"] == "airlock_tests.record"  # applied when the group is done


def test_serializer_and_compression_choose_how_the_worker_decodes(unread):
    app, messages = unread
    record = app.tasks["airlock_tests.record"]
    flush(record, "x", serializer="pickle")
    flush(record, "x", compression="zlib")
    pickled, compressed = messages()
    assert pickled["content-type"] == "application/x-python-serialize"
    assert compressed["headers"]["compression"] == "application/x-gzip"


def test_every_unsafe_option_is_shown_above():
    shown = {"link", "link_error", "chain", "headers", "chord", "serializer", "compression"}
    assert CeleryExecutor.unsafe_options == shown
    assert isinstance(CeleryExecutor.unsafe_options, frozenset)
    assert CeleryExecutor.message_id_option not in CeleryExecutor.unsafe_options
    # What airlock-core's plugin API reads for a relay deciding about a stored row:
    assert airlock.plugins.unsafe_options(celery_executor) == shown
