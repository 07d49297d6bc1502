"""Actors the tests send and real ``dramatiq`` workers run, declared on a given broker.

Every actor writes what it saw into Redis database 3 under ``dramatiq_results:<tag>:``,
where the test reads it back: results are observed from the worker side.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import dramatiq
from dramatiq.middleware import AsyncIO, CurrentMessage
from redis import Redis

import airlock
from airlock_dramatiq import AirlockMiddleware


class RecordDelays(dramatiq.Middleware):
    """Notes each message the worker received as delayed (it came with an eta)."""

    def __init__(self, push: Any) -> None:
        self.push = push

    def before_delay_message(self, broker: dramatiq.Broker, message: Any) -> None:
        self.push("delayed", message.args[0])


def install(broker: dramatiq.Broker, tag: str) -> dict[str, Any]:
    """Add airlock's middleware to ``broker`` and declare the test actors on it."""
    results = Redis.from_url(os.environ["DQ_REDIS_URL"])
    queue = f"dramatiq_{tag}"
    install_broker = broker  # RecordGeneric.Meta assigns `broker`, so it cannot read it

    def push(key: str, value: object) -> None:
        results.rpush(f"dramatiq_results:{tag}:{key}", str(value))

    broker.add_middleware(CurrentMessage())
    broker.add_middleware(AsyncIO())
    broker.add_middleware(RecordDelays(push))
    broker.add_middleware(AirlockMiddleware(executor="dramatiq"))

    def actor(**options: Any) -> Any:
        return dramatiq.actor(broker=broker, queue_name=queue, **{"max_retries": 0, **options})

    @actor()
    def record(key: str, value: object) -> None:
        push(key, value)

    @actor()
    def record_options(key: str) -> None:
        message = CurrentMessage.get_current_message()
        assert message is not None
        push(key, json.dumps(message.options, sort_keys=True))

    @actor()
    def record_message_id(key: str, value: object) -> None:
        message = CurrentMessage.get_current_message()
        assert message is not None
        push(key, json.dumps([message.message_id, value, sorted(message.options)]))

    @actor()
    def record_pid(key: str) -> None:
        push(key, os.getpid())

    class RecordGeneric(dramatiq.GenericActor):
        """A class-based actor: Dramatiq turns the class into an instance of it."""

        class Meta:
            broker = install_broker
            queue_name = queue
            max_retries = 0

        def perform(self, key: str, value: object) -> None:
            push(key, f"generic {value}")

    @actor()
    def add(a: int, b: int) -> int:
        return a + b

    @actor()
    def place_order(order_id: int, fail: bool = False) -> None:
        airlock.enqueue(record, "emails", order_id)
        airlock.enqueue(record, "warehouse", order_id)
        push("attempts", order_id)
        if fail:
            raise RuntimeError(f"order {order_id} failed")

    @actor()
    async def place_order_async(order_id: int, fail: bool = False) -> None:
        await asyncio.sleep(0)
        airlock.enqueue(record, "async_emails", order_id)
        async with airlock.scope():  # captured by the message's scope
            airlock.enqueue(record, "async_nested", order_id)
        push("async_attempts", order_id)
        if fail:
            raise RuntimeError(f"order {order_id} failed")

    @actor()
    def order_failed(message: dict[str, Any], error: dict[str, Any]) -> None:
        push("failures", message["args"][0])

    @actor()
    def note_success(message: dict[str, Any], result: object) -> None:
        push("successes", json.dumps([message["actor_name"], message["args"], result]))

    @actor(max_retries=1, min_backoff=10, max_backoff=20)
    def flaky_order(order_id: int) -> None:
        attempt = results.incr(f"dramatiq_results:{tag}:flaky:{order_id}")
        airlock.enqueue(record, "flaky_effects", f"{order_id}:attempt{attempt}")
        if attempt == 1:
            raise RuntimeError("first attempt fails")

    @actor()
    def undeliverable_effects(order_id: int) -> None:
        airlock.enqueue(record, "sent_before_the_bad_one", order_id)
        airlock.enqueue(record, "never", order_id, _dispatch_options={"countdown": 5})

    @actor()
    def enrich_user(user_id: int) -> None:
        push("enrich_runs", user_id)
        with airlock.policy(airlock.BlockTasks({"enrich_user"})):
            save_user(user_id)

    def save_user(user_id: int) -> None:
        airlock.enqueue(enrich_user, user_id)
        airlock.enqueue(record, "audit", f"saved {user_id}")

    return {
        "record": record,
        "record_options": record_options,
        "record_message_id": record_message_id,
        "record_pid": record_pid,
        "RecordGeneric": RecordGeneric,
        "add": add,
        "place_order": place_order,
        "place_order_async": place_order_async,
        "order_failed": order_failed,
        "note_success": note_success,
        "flaky_order": flaky_order,
        "enrich_user": enrich_user,
        "undeliverable_effects": undeliverable_effects,
        "QUEUE": queue,
    }
