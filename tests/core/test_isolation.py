"""Threads, asyncio tasks and gevent greenlets, all at once: each scope ends with exactly
its own intents, and no intent ever crosses from one scope into another."""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import gevent
import pytest

import airlock

THREADS = 32
TASKS = 200
GREENLETS = 200
STEPS = 10


def effect(unit: str, step: object) -> None:
    pass


class Ledger:
    """A thread-safe executor: what was dispatched, per unit, and every isolation failure."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.dispatched: dict[str, list[object]] = defaultdict(list)
        self.problems: list[str] = []

    def __call__(self, intent: airlock.Intent) -> None:
        unit, step = intent.args
        with self.lock:
            self.dispatched[unit].append(step)

    def problem(self, message: str) -> None:
        with self.lock:
            self.problems.append(message)

    def check_open(self, unit: str, scope: airlock.Scope, steps_so_far: int) -> None:
        if airlock.get_current_scope() is not scope:
            self.problem(f"{unit}: the current scope changed under it")
        if [i.args for i in scope.intents] != [(unit, k) for k in range(steps_so_far)]:
            self.problem(f"{unit}: foreign or missing intents {scope.intents!r}")

    def check_closed(self, unit: str, scope: airlock.Scope) -> None:
        own = [(unit, k) for k in range(STEPS)]
        if [i.args for i in scope.own_intents] != own:
            self.problem(f"{unit}: own intents {scope.own_intents!r}")
        if [i.args for i in scope.captured_intents] != [(unit, "inner")]:
            self.problem(f"{unit}: captured intents {scope.captured_intents!r}")
        if not scope.is_flushed:
            self.problem(f"{unit}: scope not flushed")


def run_sync_unit(unit: str, ledger: Ledger, pause: Callable[[], None]) -> None:
    with airlock.scope(executor=ledger) as scope:
        for step in range(STEPS):
            airlock.enqueue(effect, unit, step)
            pause()
            ledger.check_open(unit, scope, step + 1)
        with airlock.scope(executor=ledger) as inner:
            airlock.enqueue(effect, unit, "inner")
            pause()
            if [i.args for i in inner.intents] != [(unit, "inner")]:
                ledger.problem(f"{unit}: inner scope holds {inner.intents!r}")
        pause()
    ledger.check_closed(unit, scope)
    if airlock.get_current_scope() is not None:
        ledger.problem(f"{unit}: a scope is still current after the block")


async def run_async_unit(unit: str, ledger: Ledger) -> None:
    async with airlock.scope(executor=ledger) as scope:
        for step in range(STEPS):
            airlock.enqueue(effect, unit, step)
            await asyncio.sleep(0)
            ledger.check_open(unit, scope, step + 1)
        async with airlock.scope(executor=ledger):
            airlock.enqueue(effect, unit, "inner")
            await asyncio.sleep(0)
        await asyncio.sleep(0)
    ledger.check_closed(unit, scope)


def run_threads(ledger: Ledger, start: threading.Barrier) -> list[threading.Thread]:
    def unit(number: int) -> None:
        start.wait(timeout=30)
        run_sync_unit(f"thread-{number}", ledger, pause=lambda: threading.Event().wait(0.0005))

    return [threading.Thread(target=unit, args=(n,)) for n in range(THREADS)]


def asyncio_thread(ledger: Ledger, start: threading.Barrier) -> threading.Thread:
    async def main() -> None:
        await asyncio.gather(*(run_async_unit(f"task-{n}", ledger) for n in range(TASKS)))

    def run() -> None:
        start.wait(timeout=30)
        asyncio.run(main())

    return threading.Thread(target=run)


def gevent_thread(ledger: Ledger, start: threading.Barrier) -> threading.Thread:
    def run() -> None:
        start.wait(timeout=30)
        greenlets = [
            gevent.spawn(run_sync_unit, f"greenlet-{n}", ledger, lambda: gevent.sleep(0))
            for n in range(GREENLETS)
        ]
        gevent.joinall(greenlets, timeout=60, raise_error=True)
        for greenlet in greenlets:
            if not greenlet.successful():
                ledger.problem(f"greenlet failed: {greenlet.exception!r}")

    return threading.Thread(target=run)


def test_threads_tasks_and_greenlets_never_share_a_scope() -> None:
    airlock.get_configuration()  # plugins loaded up front: this test is about scopes
    ledger = Ledger()
    start = threading.Barrier(THREADS + 2)
    workers = [
        *run_threads(ledger, start),
        asyncio_thread(ledger, start),
        gevent_thread(ledger, start),
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not any(worker.is_alive() for worker in workers)
    assert ledger.problems == []
    units = (
        [f"thread-{n}" for n in range(THREADS)]
        + [f"task-{n}" for n in range(TASKS)]
        + [f"greenlet-{n}" for n in range(GREENLETS)]
    )
    expected: list[Any] = [*range(STEPS), "inner"]
    assert dict(ledger.dispatched) == dict.fromkeys(units, expected)
    assert airlock.get_current_scope() is None


def test_greenlets_interleaving_inside_one_thread_keep_their_own_scopes() -> None:
    ledger = Ledger()
    order: list[str] = []

    def unit(name: str) -> None:
        order.append(name)
        run_sync_unit(name, ledger, lambda: gevent.sleep(0))

    with airlock.scope(executor=ledger) as outer:
        greenlets = [gevent.spawn(unit, f"g{n}") for n in range(20)]
        gevent.joinall(greenlets, timeout=30, raise_error=True)
    assert ledger.problems == []
    assert outer.intents == []
    assert len(ledger.dispatched) == 20


@pytest.fixture
def undiscovered() -> Any:
    """Plugins not loaded yet, as in a fresh process; and reloaded cleanly afterwards."""
    airlock.plugins.reset()
    airlock.reset_configuration()
    yield
    airlock.plugins.reset()
    airlock.reset_configuration()


def test_first_use_from_many_threads_at_once_sees_every_builtin(undiscovered: None) -> None:
    start = threading.Barrier(THREADS)
    failures: list[BaseException] = []

    def first_use() -> None:
        start.wait(timeout=30)
        try:
            with airlock.scope(policy="drop_all", executor="sync"):
                airlock.enqueue(effect, "x", 1)
        except Exception as exc:
            failures.append(exc)

    workers = [threading.Thread(target=first_use) for _ in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert failures == []
    assert "sync" in airlock.plugins.names("executor")
