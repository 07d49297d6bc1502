"""Hostile values and unlucky timing: describing an intent never fails, no enqueue is lost."""

from __future__ import annotations

import contextvars
import sys
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from coresupport import Recorder, run_block

import airlock


def task(*args: Any, **kwargs: Any) -> None:
    pass


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("repr exploded")


class Failing(Recorder):
    """Accepts the first intent, then refuses everything."""

    def __call__(self, intent: airlock.Intent) -> None:
        if self.intents:
            raise ConnectionError("broker down")
        super().__call__(intent)


def nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "hostile",
    [BadRepr(), nested(2000), "x" * 10_000_000, {"k": BadRepr()}, b"\\x00" * 1_000_000],
    ids=["raising-repr", "nested-2000", "10MB-string", "dict-with-raising-repr", "1MB-bytes"],
)
def test_a_hostile_argument_keeps_the_dispatch_accounting_and_a_short_message(
    hostile: object,
) -> None:
    def body() -> None:
        airlock.enqueue(task, "first")
        airlock.enqueue(task, hostile)
        airlock.enqueue(task, hostile, key=hostile)

    with pytest.raises(airlock.DispatchError) as caught:
        run_block(airlock.scope(executor=Failing()), body)
    error = caught.value
    assert [i.args[0] for i in error.dispatched] == ["first"]
    assert len(error.failed) == 1
    assert len(error.pending) == 1
    assert len(str(error)) < 2_000
    assert "broker down" in str(error)
    assert len(repr(error.pending[0])) < 1_000


def test_an_exception_whose_str_raises_is_described() -> None:
    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("nope")

    def refuse(intent: airlock.Intent) -> None:
        raise Unprintable

    with pytest.raises(airlock.DispatchError) as caught, airlock.scope(executor=refuse):
        airlock.enqueue(task, 1)
    assert "Unprintable" in str(caught.value)


def test_a_huge_failure_message_is_cut() -> None:
    def refuse(intent: airlock.Intent) -> None:
        raise ValueError("y" * 5_000_000)

    with pytest.raises(airlock.DispatchError) as caught, airlock.scope(executor=refuse):
        airlock.enqueue(task, 1)
    assert len(str(caught.value)) < 2_000


@pytest.fixture
def tiny_switch_interval() -> Iterator[None]:
    """Switch threads every microsecond, so that races show within a few hundred trials."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


@pytest.mark.usefixtures("tiny_switch_interval")
@pytest.mark.parametrize("path", ["common", "careful"])
def test_an_enqueue_racing_the_end_of_a_shared_scope_is_dispatched_or_raises(path: str) -> None:
    """Every enqueue() that returns is dispatched; every other one raised ScopeStateError."""
    trials, per_thread = 300, 20
    returned: list[int] = []
    refused: list[int] = []
    dispatched: list[int] = []
    options = {"queue": "q"} if path == "careful" else None

    def work(base: int, ready: threading.Event) -> None:
        ready.set()
        for n in range(base, base + per_thread):
            try:
                airlock.enqueue(dispatched.append, n, _dispatch_options=options)
            except airlock.ScopeStateError:
                refused.append(n)
            else:
                returned.append(n)

    for trial in range(trials):
        ready = threading.Event()
        with airlock.scope(executor="sync"):
            worker = threading.Thread(
                target=contextvars.copy_context().run, args=(work, trial * per_thread, ready)
            )
            worker.start()
            assert ready.wait(timeout=10)
        worker.join(timeout=10)
        assert not worker.is_alive()
    assert sorted(returned) == sorted(dispatched)
    assert sorted(returned + refused) == list(range(trials * per_thread))


def test_a_scope_closed_by_generator_exit_warns_naming_what_it_discarded() -> None:
    def produce() -> Iterator[int]:
        with airlock.scope(executor=Recorder()):
            airlock.enqueue(task, "from-generator")
            yield 1
            yield 2

    generator = produce()
    assert next(generator) == 1
    with pytest.warns(airlock.AbandonedGeneratorWarning, match=r"task\('from-generator'\)"):
        generator.close()


def test_a_generator_that_runs_to_the_end_flushes_without_a_warning() -> None:
    recorder = Recorder()

    def produce() -> Iterator[int]:
        with airlock.scope(executor=recorder):
            airlock.enqueue(task, "done")
            yield 1

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert list(produce()) == [1]
    assert recorder.calls == [("task", ("done",), {})]


def test_an_async_generator_closed_early_warns_too() -> None:
    import asyncio

    async def produce() -> Any:
        async with airlock.scope(executor=Recorder()):
            airlock.enqueue(task, "from-async-generator")
            yield 1
            yield 2

    async def main() -> None:
        generator = produce()
        assert await generator.__anext__() == 1
        await generator.aclose()

    with pytest.warns(airlock.AbandonedGeneratorWarning, match="from-async-generator"):
        asyncio.run(main())
