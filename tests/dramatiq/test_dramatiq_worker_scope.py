"""Worker-side scoping: ``AirlockMiddleware`` runs each message in a scope, on both brokers."""

from __future__ import annotations

import pytest
from conftest import App

pytestmark = pytest.mark.slow


def test_a_successful_message_flushes_its_effects(app: App) -> None:
    app.place_order.send(1)
    assert app.wait_for("emails") == ["1"]
    assert app.wait_for("warehouse") == ["1"]


def test_a_failed_message_discards_its_effects(app: App) -> None:
    app.place_order.send_with_options(args=(2,), kwargs={"fail": True}, on_failure=app.order_failed)
    # The failure callback is sent after the middleware discarded the scope.
    assert app.wait_for("failures") == ["2"]
    app.drain()
    assert app.results("attempts") == ["2"]
    assert app.results("emails") == []
    assert app.results("warehouse") == []


def test_an_async_actor_enqueues_into_its_messages_scope(app: App) -> None:
    app.place_order_async.send(11)
    assert app.wait_for("async_emails") == ["11"]
    assert app.wait_for("async_nested") == ["11"]


def test_a_failed_async_actor_discards_its_effects(app: App) -> None:
    app.place_order_async.send_with_options(
        args=(12,), kwargs={"fail": True}, on_failure=app.order_failed
    )
    assert app.wait_for("failures") == ["12"]
    app.drain()
    assert app.results("async_attempts") == ["12"]
    assert app.results("async_emails") == []
    assert app.results("async_nested") == []


def test_a_retried_message_keeps_only_the_successful_attempts_effects(app: App) -> None:
    app.flaky_order.send(5)
    assert app.wait_for("flaky_effects") == ["5:attempt2"]
    app.drain()
    assert app.results("flaky_effects") == ["5:attempt2"]


def test_an_actor_that_re_enqueues_itself_is_stopped_by_block_tasks(app: App) -> None:
    app.enrich_user.send(7)
    assert app.wait_for("audit") == ["saved 7"]
    app.drain()
    assert app.results("enrich_runs") == ["7"]


def test_a_failed_flush_fails_the_message(redis_app: App) -> None:
    import time

    from conftest import WAIT

    broker = redis_app.broker
    dead_letters = f"{broker.namespace}:{redis_app.queue}.XQ.msgs"
    before = broker.client.hlen(dead_letters)
    redis_app.undeliverable_effects.send(3)
    assert redis_app.wait_for("sent_before_the_bad_one") == ["3"]
    deadline = time.monotonic() + WAIT
    while broker.client.hlen(dead_letters) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert broker.client.hlen(dead_letters) == before + 1  # dead-lettered, not acked
    assert redis_app.results("never") == []
