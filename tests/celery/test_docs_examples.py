"""Every example of docs/integrations/celery.md, run against the real Redis broker.

The examples publish to Redis database 1 (``CELERY_BROKER_URL``); the tests
read the queues there and decode what a worker would receive.
"""

from __future__ import annotations

import base64
import importlib
import json
import runpy
import sys
from pathlib import Path

import pytest

import airlock

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "celery"
MODULES = [path.stem for path in EXAMPLES.glob("*.py")]
PAGE = Path(__file__).resolve().parents[2] / "docs" / "integrations" / "celery.md"


@pytest.fixture(scope="module", autouse=True)
def example_path(broker_redis_url):
    """The examples import each other by module name, and publish to our Redis database."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CELERY_BROKER_URL", broker_redis_url)
        patch.syspath_prepend(str(EXAMPLES))
        yield
    for name in MODULES:
        sys.modules.pop(name, None)


@pytest.fixture(autouse=True)
def examples(fresh_airlock, redis_broker):
    """Each test starts from airlock's defaults, as the examples expect: no executor configured."""
    clear(redis_broker)
    yield
    clear(redis_broker)


def priority_lists(redis_broker, queue):
    return [queue, *sorted(redis_broker.keys(queue + b"\x06\x16*"))]


def clear(redis_broker):
    for queue in (b"celery", b"emails"):
        redis_broker.delete(*priority_lists(redis_broker, queue))


def sent(redis_broker, queue="celery"):
    """The messages waiting in ``queue``, oldest first, as (task name, args, kwargs, message).

    Messages with a priority wait in kombu's per-priority lists (``queue`` + separator + step).
    """
    found = []
    keys = priority_lists(redis_broker, queue.encode())
    raws = [raw for key in keys for raw in reversed(redis_broker.lrange(key, 0, -1))]
    for raw in raws:
        message = json.loads(raw)
        args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
        found.append((message["headers"]["task"], args, kwargs, message))
    return found


def names(redis_broker, queue="celery"):
    return [(task, args, kwargs) for task, args, kwargs, _ in sent(redis_broker, queue)]


def test_every_example_is_on_the_page():
    page = PAGE.read_text()
    for name in MODULES:
        assert f'--8<-- "docs/examples/celery/{name}.py"' in page, name


def test_enqueue_tasks(redis_broker):
    runpy.run_path(str(EXAMPLES / "enqueue_tasks.py"))
    assert names(redis_broker) == [
        ("myapp.send_email", [], {"user_id": 123}),
        ("myapp.process_data", [], {"item_id": 456}),
    ]


def test_routing_by_task_kind(redis_broker):
    assert airlock.get_configuration()["executor"] is airlock.plugins.lookup("executor", "auto")
    example = runpy.run_path(str(EXAMPLES / "routing.py"))
    assert names(redis_broker) == [("myapp.send_email", [], {"order_id": 7})]
    assert example["AUDIT_LOG"] == ["order 7 confirmed"]


def test_argument_checks(redis_broker, capsys):
    send_email = importlib.import_module("myapp").send_email
    with pytest.raises(TypeError) as direct:
        send_email.delay(order_idd=7)
    runpy.run_path(str(EXAMPLES / "argument_checks.py"))
    printed = capsys.readouterr().out
    assert "send_email() got an unexpected keyword argument 'order_idd'" in printed
    assert str(direct.value) in printed  # Celery's own message
    assert names(redis_broker) == [("myapp.send_email", [], {"order_id": 7})]


def test_typing_opt_out(redis_broker, capsys):
    example = importlib.import_module("typing_opt_out")
    example.request_report()
    assert names(redis_broker) == [("typing_opt_out.monthly_report", ["2026-01"], {})]
    example.monthly_report("2026-01")  # what a worker runs: the base class fills in the tenant
    assert capsys.readouterr().out == "report for acme, 2026-01\n"


def test_celery_options(redis_broker):
    runpy.run_path(str(EXAMPLES / "celery_options.py"))
    assert names(redis_broker) == []
    (sent_email,) = sent(redis_broker, "emails")
    task, _, kwargs, message = sent_email
    assert (task, kwargs) == ("myapp.send_email", {"user_id": 123})
    assert message["headers"]["eta"] is not None
    assert message["properties"]["priority"] == 9


@pytest.mark.parametrize("module", ["scoped_task", "scope_in_task"])
def test_task_execution_scoping(redis_broker, module):
    process_order = importlib.import_module(module).process_order
    process_order(7)
    assert names(redis_broker) == [
        ("myapp.send_email", [], {"order_id": 7}),
        ("myapp.update_analytics", [], {"order_id": 7}),
    ]
    with pytest.raises(LookupError):
        process_order(-1)  # fetch_order fails: nothing escapes
    assert len(names(redis_broker)) == 2


def test_scoped_task_base(redis_broker):
    close_account = importlib.import_module("scoped_task_base").close_account
    close_account(5)
    assert names(redis_broker) == [("myapp.send_email", [], {"user_id": 5})]


def test_policies_stop_the_enrichment_cascade(redis_broker):
    policies = importlib.import_module("policies")
    with airlock.scope():
        policies.User(7).save()  # an ordinary save enqueues the enrichment
    assert names(redis_broker) == [("policies.enrich_from_api", [], {"user_id": 7})]
    clear(redis_broker)
    policies.enrich_from_api(7)  # what the worker runs: no new enrich_from_api
    assert names(redis_broker) == [
        ("policies.log_api_usage", [7, {"age": 42, "income": 50000}], {})
    ]
    assert policies.USERS[7].age == 42


def test_legacy_shim(redis_broker):
    legacy = importlib.import_module("legacy_shim")
    with pytest.warns(DeprecationWarning, match=r"old_task\.delay\(\) is deprecated"):
        legacy.checkout()
    assert names(redis_broker) == [("legacy_shim.old_task", [123], {})]
    with (
        pytest.warns(DeprecationWarning, match="is deprecated"),
        pytest.raises(airlock.NoScopeError),
    ):
        legacy.old_task.delay(1)


def test_global_intercept(redis_broker):
    usage = importlib.import_module("global_intercept_usage")
    with pytest.warns(DeprecationWarning, match="buffered by airlock's global intercept"):
        usage.inside_scope()
    assert [(t, a) for t, a, _ in names(redis_broker)] == [
        ("global_intercept.notify_warehouse", [1]),
        ("global_intercept.notify_warehouse", [2]),
    ]
    assert sent(redis_broker)[1][3]["headers"]["eta"] is not None
    with pytest.warns(DeprecationWarning, match="outside an airlock scope"):
        usage.outside_scope()
    assert len(names(redis_broker)) == 3


def test_dispatch_errors(redis_broker):
    example = importlib.import_module("dispatch_errors")
    orders = [importlib.import_module("myapp").Order(n) for n in range(3)]
    assert example.notify(orders) == []
    assert len(names(redis_broker)) == 3
    broken = importlib.import_module("myapp").Order(object())
    retry = example.notify([orders[0], broken, orders[2]])
    assert [intent.kwargs["order_id"] for intent in retry] == [broken.id, 2]
    assert len(names(redis_broker)) == 4


def test_timeouts(redis_broker):
    from airlock_celery.connections import flush_connection

    app = importlib.import_module("timeouts").app

    @app.task(name="timeouts.ping", shared=False)
    def ping(n):
        """Never runs: nothing reads the queue."""

    options = flush_connection(app).transport_options
    assert (options["socket_timeout"], options["socket_connect_timeout"]) == (10, 5)
    with airlock.scope(executor="celery"):
        airlock.enqueue(ping, 1)
    assert names(redis_broker) == [("timeouts.ping", [1], {})]


@pytest.fixture
def rabbitmq_app(amqp_url, monkeypatch):
    """An app on RabbitMQ with an exchange no queue is bound to, and a queue nobody reads."""
    from celery import Celery
    from kombu import Connection, Exchange

    monkeypatch.delenv("CELERY_BROKER_URL")  # Celery lets it win over broker=
    app = Celery("outcomes", broker=amqp_url, set_as_current=False)
    app.conf.update(
        task_default_queue="celery_outcomes",
        task_default_exchange="celery_outcomes",
        task_default_routing_key="celery_outcomes",
    )

    @app.task(name="outcomes.notify", shared=False)
    def notify(n):
        """Never runs: nothing reads the queue."""

    with Connection(amqp_url) as connection:
        Exchange("celery_outcomes_nowhere", type="direct")(connection.default_channel).declare()
    yield app
    app.close()
    with Connection(amqp_url) as connection:
        connection.default_channel.exchange_delete("celery_outcomes_nowhere")
        connection.default_channel.queue_delete("celery_outcomes")


def _failed_flush(app, options):
    notify = app.tasks["outcomes.notify"]
    scopes = []

    def run():
        with airlock.scope(executor="celery") as scope:
            scopes.append(scope)
            for n, chosen in enumerate(options):
                airlock.enqueue(notify, n, _dispatch_options=chosen)

    with pytest.raises(airlock.DispatchError) as caught:
        run()
    return scopes[0].intents, caught.value


def test_delivery_outcomes(rabbitmq_app):
    sort_failures = importlib.import_module("delivery_outcomes").sort_failures
    unroutable = {"exchange": "celery_outcomes_nowhere", "routing_key": "none"}
    intents, refused = _failed_flush(rabbitmq_app, [None, unroutable, None])
    assert sort_failures(refused) == ([intents[1]], [])  # not on the broker: send again
    missing = {"exchange": "celery_outcomes_missing", "routing_key": "none"}
    intents, closed = _failed_flush(rabbitmq_app, [missing, None])
    resend, maybe_sent = sort_failures(closed)
    assert intents[0] in maybe_sent  # the channel closed before it was confirmed
    assert resend == closed.pending
