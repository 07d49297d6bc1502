"""When an executor fails, DispatchError accounts for every intent of the flush."""

import airlock

ran = []


def ok(name: str) -> None:
    ran.append(name)


def broken(name: str) -> None:
    raise ConnectionError("broker unreachable")


try:
    with airlock.scope():
        airlock.enqueue(ok, "a")
        airlock.enqueue(broken, "b")
        airlock.enqueue(ok, "c")
except airlock.DispatchError as error:
    assert [i.args for i in error.dispatched] == [("a",)]
    assert [(i.args, type(e)) for i, e in error.failed] == [(("b",), ConnectionError)]
    assert [i.args for i in error.pending] == [("c",)]  # never attempted: nothing lost

# "continue" tries every intent, then reports.
ran.clear()
try:
    with airlock.scope(on_dispatch_error="continue"):
        airlock.enqueue(ok, "a")
        airlock.enqueue(broken, "b")
        airlock.enqueue(ok, "c")
except airlock.DispatchError as error:
    assert ran == ["a", "c"]
    assert len(error.failed) == 1 and error.pending == []
