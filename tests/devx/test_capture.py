"""``airlock.testing.capture()`` and ``Call`` used directly, without the fixture."""

from __future__ import annotations

import asyncio
import sys
from functools import partial
from typing import Any

import pytest

import airlock
from airlock.testing import Call, Capture, CaptureScope, call, capture

ran: list[Any] = []


def notify(order_id: int) -> str:
    ran.append(order_id)
    return f"notified {order_id}"


class CeleryLikeTask:
    """Has a dotted ``name``, as a Celery task does."""

    name = "shop.tasks.charge_card"

    def __call__(self, order_id: int) -> None:
        ran.append(("charge", order_id))


class DramatiqLikeActor:
    """Has an ``actor_name``, as a Dramatiq actor does."""

    actor_name = "ship_parcel"

    def __call__(self, order_id: int) -> None:
        ran.append(("ship", order_id))


@pytest.fixture(autouse=True)
def clear_ran() -> None:
    ran.clear()


def test_capture_flushes_under_its_policy_and_stays_readable() -> None:
    with capture(policy="allow_all", executor="sync") as captured:
        airlock.enqueue(notify, 1)
        assert ran == []
    assert ran == [1]
    assert captured.scope.is_flushed
    captured.assert_enqueued(notify, 1)
    assert isinstance(captured, Capture)
    assert isinstance(captured.scope, CaptureScope)
    assert repr(captured) == "<Capture <CaptureScope flushed, 1 intents>>"


def test_capture_discards_on_an_exception() -> None:
    captured = capture(policy="allow_all")

    def failing_block() -> None:
        with captured:
            airlock.enqueue(notify, 1)
            raise KeyError("boom")

    with pytest.raises(KeyError):
        failing_block()
    assert captured.scope.is_discarded
    assert ran == []


def test_asyncio_tasks_enqueue_into_the_capture() -> None:
    async def handler(order_id: int) -> None:
        await asyncio.sleep(0)
        airlock.enqueue(notify, order_id)

    async def main() -> None:
        await asyncio.gather(handler(1), handler(2))

    with capture() as captured:
        asyncio.run(main())
    assert sorted(i.args[0] for i in captured.intents) == [1, 2]


def test_run_all_needs_the_capture_open() -> None:
    with capture() as captured:
        airlock.enqueue(notify, 1)
    with pytest.raises(airlock.ScopeStateError, match="before the capture ends"):
        captured.run_all()
    assert ran == []


def test_run_all_resolves_dotted_paths() -> None:
    module = sys.modules[__name__].__name__
    with capture() as captured:
        airlock.enqueue(f"{module}.notify", 5)
        assert captured.run_all() == ["notified 5"]
        airlock.enqueue(f"{module}.no_such_task", 6)
        with pytest.raises(airlock.DispatchError, match="no_such_task") as info:
            captured.run_all()
    assert isinstance(info.value.failed[0][1], airlock.UnknownPluginError)


def test_tasks_match_by_identity_path_and_name() -> None:
    charge, ship = CeleryLikeTask(), DramatiqLikeActor()
    with capture() as captured:
        airlock.enqueue(charge, 1)
        airlock.enqueue(ship, 2)
        airlock.enqueue(partial(notify, 3))
        airlock.enqueue(f"{__name__}.notify", 4)
    captured.assert_enqueued(charge, 1)
    captured.assert_enqueued("shop.tasks.charge_card")
    captured.assert_enqueued("charge_card")
    captured.assert_enqueued("ship_parcel", 2)
    captured.assert_enqueued(notify, times=2)  # the partial and the dotted path
    captured.assert_enqueued(f"{__name__}:notify", 4)
    captured.assert_not_enqueued(CeleryLikeTask())  # another object with the same name
    captured.assert_not_enqueued("other.module.notify")


def test_call_refuses_what_cannot_name_a_task() -> None:
    with pytest.raises(airlock.UsageError, match="the task itself or a string"):
        Call(42)  # type: ignore[arg-type]


def test_call_repr_reads_like_the_enqueue_call() -> None:
    assert repr(call(notify)) == "notify"
    assert repr(call(notify, 1, cc="x")) == "notify(1, cc='x')"
    assert repr(call("shop.notify", _dispatch_options={"queue": "q"})) == (
        "shop.notify options={'queue': 'q'}"
    )


def test_describe_numbers_each_intent() -> None:
    with capture() as captured:
        airlock.enqueue(notify, 1, _dispatch_options={"countdown": 5})
        airlock.enqueue(notify, 2)
    [second] = captured.assert_enqueued(notify, 2)
    assert captured.describe(highlight=[second]) == (
        "Enqueued (2):\n"
        "  1. <Intent notify(1) options={'countdown': 5}>\n"
        "  2. <Intent notify(2)>  <- matches"
    )
