"""The scope buffer's fast paths change nothing observable.

An intent enqueued the common way is buffered without an ``Intent`` object
(one is made, once, when something asks for it), and a scope with the sync
executor, the default policy, no parent and no lifecycle hooks runs its buffer
straight through the executor. These tests drive exactly those paths: every
lifecycle hook is off unless a test registers one.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from coresupport import LOG as RAN
from coresupport import append_to_log as task
from coresupport import raise_after, run_block

import airlock
from airlock.lifecycle import lifecycle


class Refused(Exception):
    pass


def refuse(*args: Any) -> None:
    raise Refused(args)


def enqueue_all(calls: list[tuple[Any, ...]]) -> Callable[[], None]:
    """A block body: enqueue each ``(task, *args)`` of ``calls``."""

    def body() -> None:
        for target, *args in calls:
            airlock.enqueue(target, *args)

    return body


@pytest.fixture(autouse=True)
def direct_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No lifecycle hook implemented (installed plugins may implement some)."""
    airlock.plugins.load()
    for hook in ("enqueued", "dispatched", "dropped", "failed", "discarded"):
        monkeypatch.setattr(lifecycle, hook, None)
    RAN.clear()
    yield
    RAN.clear()


def test_the_run_calls_every_kind_of_entry_in_order() -> None:
    with airlock.scope():
        airlock.enqueue(task, 1)
        airlock.enqueue(task, 2, key="value")
        airlock.enqueue(task)
        airlock.enqueue(task, 3, _dispatch_options={"queue": "q"})  # an Intent object
        with airlock.policy(airlock.AllowAll()):
            airlock.enqueue(task, 4)  # carries a layered policy
        airlock.enqueue("coresupport.append_to_log", 5)  # a string reference
        airlock.enqueue(task, 6)
    assert RAN == [
        ((1,), {}),
        ((2,), {"key": "value"}),
        ((), {}),
        ((3,), {}),
        ((4,), {}),
        ((5,), {}),
        ((6,), {}),
    ]


def test_a_layered_policy_still_judges_at_flush() -> None:
    with airlock.scope():
        airlock.enqueue(task, 1)
        with airlock.policy(airlock.DropAll()):
            airlock.enqueue(task, 2)
        airlock.enqueue(task, 3)
    assert RAN == [((1,), {}), ((3,), {})]


def test_an_intent_is_made_once_and_is_the_same_object_everywhere() -> None:
    scope = airlock.scope()
    scope.enter()
    airlock.enqueue(task, 1)
    airlock.enqueue(task, 2, key="value")
    first = scope.intents
    assert [i.args for i in first] == [(1,), (2,)]
    assert [dict(i.kwargs) for i in first] == [{}, {"key": "value"}]
    assert all(i.origin is scope and i.local_policies == () for i in first)
    assert all(i.dispatch_options is None for i in first)
    airlock.enqueue(task, 3)
    second = scope.intents
    assert all(a is b for a, b in zip(first, second[:2], strict=True))
    assert scope.own_intents == second
    assert scope.captured_intents == []
    scope.exit()
    sent = scope.flush()
    assert sent == second == scope.intents
    assert RAN == [((1,), {}), ((2,), {"key": "value"}), ((3,), {})]


def test_flush_returns_intents_never_looked_at_before() -> None:
    scope = airlock.scope()
    with scope:
        airlock.enqueue(task, 1)
        airlock.enqueue(task, 2)
    assert [i.args for i in scope.intents] == [(1,), (2,)]
    manual = airlock.scope()
    manual.enter()
    airlock.enqueue(task, 3)
    manual.exit()
    assert [i.args for i in manual.flush()] == [(3,)]


def test_repr_counts_the_buffered_intents() -> None:
    with airlock.scope() as scope:
        airlock.enqueue(task, 1)
        airlock.enqueue(task, 2, _dispatch_options={"queue": "q"})
        assert repr(scope) == "<Scope open, 2 intents>"


@pytest.mark.parametrize(("count", "failing"), [(1, 0), (3, 0), (3, 1), (3, 2), (5, 3)], ids=str)
def test_a_failing_task_in_the_run_accounts_for_every_intent(count: int, failing: int) -> None:
    scope = airlock.scope()
    calls = [(refuse if n == failing else task, n) for n in range(count)]
    with pytest.raises(airlock.DispatchError) as caught:
        run_block(scope, enqueue_all(calls))
    error = caught.value
    intents = scope.intents
    assert [i.args for i in intents] == [(n,) for n in range(count)]
    assert error.dispatched == intents[:failing]
    assert [(i, type(e)) for i, e in error.failed] == [(intents[failing], Refused)]
    assert error.pending == intents[failing + 1 :]
    assert isinstance(error.__cause__, Refused)
    assert [((n,), {}) for n in range(failing)] == RAN
    assert scope.is_flushed


def test_a_failing_intent_object_in_the_run_is_accounted_too() -> None:
    scope = airlock.scope()
    calls = [(task, 1), ("coresupport.no_such_task", 2), (task, 3)]
    with pytest.raises(airlock.DispatchError) as caught:
        run_block(scope, enqueue_all(calls))
    intents = scope.intents
    assert caught.value.dispatched == intents[:1]
    assert [i for i, _ in caught.value.failed] == [intents[1]]
    assert caught.value.pending == intents[2:]


def test_discard_returns_what_was_buffered() -> None:
    scope = airlock.scope()
    with pytest.raises(Refused):
        run_block(scope, raise_after(Refused(), (task, 1), (task, 2)))
    assert scope.is_discarded
    assert scope.intents == []
    assert RAN == []
    manual = airlock.scope()
    manual.enter()
    airlock.enqueue(task, 3)
    manual.exit()
    dropped = manual.discard()
    assert [(i.args, i.origin) for i in dropped] == [((3,), manual)]


def test_an_enqueue_hook_registered_while_a_scope_is_open_sees_the_later_intents(
    register_plugin: Callable[[object, str], str],
) -> None:
    seen: list[airlock.Intent] = []

    class Watcher:
        @airlock.hookimpl
        def airlock_intent_enqueued(self, intent: airlock.Intent) -> None:
            if intent.args == (2,):
                raise Refused("not this one")
            seen.append(intent)

    with airlock.scope() as scope:
        airlock.enqueue(task, 0)
        register_plugin(Watcher(), "core-test-watcher")
        airlock.enqueue(task, 1)
        with pytest.raises(Refused):
            airlock.enqueue(task, 2)
        airlock.enqueue(task, 3)
        assert repr(scope) == "<Scope open, 3 intents>"
        assert [i.args for i in scope.intents] == [(0,), (1,), (3,)]
        assert scope.intents[1:] == seen
    assert RAN == [((0,), {}), ((1,), {}), ((3,), {})]


def test_a_task_that_reads_the_buffer_during_the_run_changes_nothing() -> None:
    looked: list[list[airlock.Intent]] = []

    def look(scope: airlock.Scope) -> None:
        looked.append(scope.intents)

    with airlock.scope() as scope:
        airlock.enqueue(task, 1)
        airlock.enqueue(look, scope)
        airlock.enqueue(task, 2)
    assert RAN == [((1,), {}), ((2,), {})]
    assert looked == [scope.intents]


def test_threads_sharing_a_scope_lose_and_mix_nothing() -> None:
    threads, each = 8, 2000
    start = threading.Barrier(threads)

    def work(number: int) -> None:
        start.wait()
        for n in range(each):
            if n % 3:
                airlock.enqueue(task, number, n)
            else:
                airlock.enqueue(task, number, n, even=not n % 2)

    with airlock.scope() as scope:
        workers = [
            threading.Thread(target=contextvars.copy_context().run, args=(work, number))
            for number in range(threads)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        assert not any(worker.is_alive() for worker in workers)
        assert len(scope.intents) == threads * each
    assert len(RAN) == threads * each
    for number in range(threads):
        mine = [(args, kwargs) for args, kwargs in RAN if args[0] == number]
        assert mine == [((number, n), {} if n % 3 else {"even": not n % 2}) for n in range(each)]


def test_asyncio_to_thread_enqueues_into_the_callers_scope() -> None:
    async def main() -> airlock.Scope:
        async with airlock.scope() as scope:
            await asyncio.gather(*(asyncio.to_thread(airlock.enqueue, task, n) for n in range(20)))
            assert RAN == []
        return scope

    scope = asyncio.run(main())
    assert sorted(RAN) == [((n,), {}) for n in range(20)]
    assert scope.is_flushed
    assert len(scope.intents) == 20


def test_enqueue_after_the_scope_ended_is_refused_in_a_copied_context() -> None:
    with airlock.scope():
        copied = contextvars.copy_context()
    with pytest.raises(airlock.ScopeStateError):
        copied.run(airlock.enqueue, task, 1)
    assert RAN == []
