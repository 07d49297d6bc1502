"""A nested scope's intents are captured by the outer scope, which has authority."""

import airlock

ran = []


def task(name: str) -> None:
    ran.append(name)


with airlock.scope() as outer:
    airlock.enqueue(task, "outer")
    with airlock.scope() as inner:
        airlock.enqueue(task, "inner")
    assert ran == []  # the inner scope did not flush on its own
    assert [i.args for i in outer.own_intents] == [("outer",)]
    assert [i.args for i in outer.captured_intents] == [("inner",)]
    assert outer.captured_intents[0].origin is inner  # provenance
assert ran == ["outer", "inner"]

# A discarded inner scope loses its intents; the outer still flushes its own.
ran.clear()
with airlock.scope():
    airlock.enqueue(task, "kept")
    try:
        with airlock.scope():
            airlock.enqueue(task, "lost")
            raise RuntimeError("inner failure")
    except RuntimeError:
        pass
assert ran == ["kept"]


class IndependentScope(airlock.Scope):
    """Let nested scopes release their own intents immediately."""

    def before_descendant_flushes(
        self, exiting_scope: airlock.Scope, intents: list[airlock.Intent]
    ) -> list[airlock.Intent]:
        return intents


ran.clear()
with airlock.scope(_cls=IndependentScope):
    with airlock.scope():
        airlock.enqueue(task, "early")
    assert ran == ["early"]
