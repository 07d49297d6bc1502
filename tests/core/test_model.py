"""Model-based test: random nestings of scopes, policy layers, enqueues and exceptions,
checked step by step against a small pure model of the semantics of SPEC §3.

The model, in short: an intent lands in the innermost open scope unless a policy refuses it
at enqueue; at a scope's flush its own intents face their layers (innermost first) and then
the scope policy, captured ones only the scope policy (Dedupe remembers for one flush); open
ancestors, innermost first, let some through and capture the rest, their policy screening
what they capture; what is left is dispatched in order, and a failing task stops the flush
with exact DispatchError accounting. A discarded scope loses its buffer.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

import airlock

TASK_NAMES = ("a", "b", "c", "x")  # "x" fails when it runs
#: What ``enqueue`` draws from: a failing task now and then, not a quarter of the time.
ENQUEUED = ("a", "b", "c") * 3 + ("x",)
POLICY_KINDS = ("allow_all", "drop_all", "block_b", "strict_block_b", "dedupe")
SCOPE_KINDS = ("default", "lets_c_through")

#: (task name, argument) of every task the sync executor actually ran, in order.
RAN: list[tuple[str, int]] = []


class Refused(Exception):
    pass


def _task(name: str) -> Any:
    def run(arg: int) -> None:
        if name == "x":
            raise Refused(arg)
        RAN.append((name, arg))

    run.__name__ = run.__qualname__ = name
    return run


TASKS = {name: _task(name) for name in TASK_NAMES}


def real_policy(kind: str) -> Any:
    return {
        "allow_all": airlock.AllowAll,
        "drop_all": airlock.DropAll,
        "block_b": lambda: airlock.BlockTasks("b"),
        "strict_block_b": lambda: airlock.BlockTasks("b", raise_on_enqueue=True),
        "dedupe": airlock.Dedupe,
    }[kind]()


class LetCThrough(airlock.Scope):
    """An ancestor that lets nested intents of task ``c`` escape; captures the rest."""

    def before_descendant_flushes(
        self, exiting_scope: airlock.Scope, intents: list[airlock.Intent]
    ) -> list[airlock.Intent]:
        return [i for i in intents if i.name == "c"]


# -- the reference model ------------------------------------------------------


class ModelPolicy:
    def __init__(self, kind: str) -> None:
        self.kind = kind

    def refuses_at_enqueue(self, name: str) -> bool:
        return self.kind == "strict_block_b" and name == "b"

    def allows(self, key: tuple[str, int], memo: dict[ModelPolicy, set[Any]]) -> bool:
        """``memo`` lives for one flush: Dedupe remembers what it allowed in that flush."""
        if self.kind == "drop_all":
            return False
        if self.kind in ("block_b", "strict_block_b"):
            return key[0] != "b"
        if self.kind == "dedupe":
            seen = memo.setdefault(self, set())
            if key in seen:
                return False
            seen.add(key)
        return True


@dataclass(eq=False)
class ModelIntent:
    key: tuple[str, int]
    layers: tuple[ModelPolicy, ...]
    origin: ModelScope
    real: airlock.Intent


@dataclass(eq=False)
class ModelScope:
    kind: str
    policy: ModelPolicy
    real: airlock.Scope
    buffer: list[ModelIntent] = field(default_factory=list)
    state: str = "open"

    def lets_through(self, intents: list[ModelIntent]) -> list[ModelIntent]:
        if self.kind == "lets_c_through":
            return [i for i in intents if i.key[0] == "c"]
        return []


@dataclass(eq=False)
class Layer:
    policy: ModelPolicy
    manager: airlock.policy


class Boom(Exception):
    pass


class ScopeMachine(RuleBasedStateMachine):
    #: Open scopes with airlock's own sync executor instead of a recording wrapper
    #: (then a scope with the default policy and no parent runs its buffer directly).
    sync = False

    def __init__(self) -> None:
        super().__init__()
        RAN.clear()
        self.dispatched: list[airlock.Intent] = []
        self.frames: list[ModelScope | Layer] = []
        self.scopes: list[ModelScope] = []
        self.expected: list[ModelIntent] = []

    def executor(self, intent: airlock.Intent) -> None:
        airlock.sync_executor(intent)
        self.dispatched.append(intent)

    def open_scopes(self) -> list[ModelScope]:
        return [f for f in self.frames if isinstance(f, ModelScope)]

    # -- rules ----------------------------------------------------------------

    @rule(policy=st.sampled_from(POLICY_KINDS), kind=st.sampled_from(SCOPE_KINDS))
    def open_scope(self, policy: str, kind: str) -> None:
        cls = LetCThrough if kind == "lets_c_through" else airlock.Scope
        executor = airlock.sync_executor if self.sync else self.executor
        real = airlock.scope(_cls=cls, policy=real_policy(policy), executor=executor)
        real.__enter__()
        scope = ModelScope(kind, ModelPolicy(policy), real)
        self.frames.append(scope)
        self.scopes.append(scope)

    @rule(policy=st.sampled_from(POLICY_KINDS))
    def push_layer(self, policy: str) -> None:
        manager = airlock.policy(real_policy(policy))
        manager.__enter__()
        self.frames.append(Layer(ModelPolicy(policy), manager))

    @rule(name=st.sampled_from(ENQUEUED), arg=st.integers(0, 1))
    def enqueue(self, name: str, arg: int) -> None:
        scopes = self.open_scopes()
        layers = tuple(f.policy for f in self.frames if isinstance(f, Layer))
        if not scopes:
            try:
                airlock.enqueue(TASKS[name], arg)
            except airlock.NoScopeError:
                return
            raise AssertionError("enqueue outside a scope did not raise NoScopeError")
        scope = scopes[-1]
        refused = any(p.refuses_at_enqueue(name) for p in (*layers, scope.policy))
        try:
            airlock.enqueue(TASKS[name], arg)
        except airlock.PolicyViolation:
            assert refused, "PolicyViolation from a policy that allows the intent"
            return
        assert not refused, "a refusing policy let the intent into the buffer"
        real = scope.real.intents[-1]
        assert real.args == (arg,)
        assert real.local_policies == tuple(
            f.manager._policy for f in self.frames if isinstance(f, Layer)
        )
        scope.buffer.append(ModelIntent((name, arg), layers, scope, real))

    @rule(bad=st.sampled_from([None, 42, b"a"]))
    def enqueue_garbage(self, bad: object) -> None:
        try:
            airlock.enqueue(bad)  # type: ignore[arg-type]
        except airlock.UsageError:
            return
        raise AssertionError(f"enqueue({bad!r}) did not raise UsageError")

    @precondition(lambda self: bool(self.frames))
    @rule()
    def close(self) -> None:
        frame = self.frames.pop()
        if isinstance(frame, Layer):
            frame.manager.__exit__(None, None, None)
            return
        try:
            frame.real.__exit__(None, None, None)
        except (airlock.DispatchError, airlock.PolicyViolation) as exc:
            error: Exception | None = exc
        else:
            error = None
        outcome = self.flush(frame)
        if outcome is None:
            assert error is None, f"unexpected {error!r}"
        elif outcome == "refused":
            assert isinstance(error, airlock.PolicyViolation), f"expected a refusal, got {error!r}"
        else:
            sent, failing, pending = outcome
            assert isinstance(error, airlock.DispatchError), f"expected a failure, got {error!r}"
            assert error.dispatched == [i.real for i in sent]
            assert [(i, type(e)) for i, e in error.failed] == [(failing.real, Refused)]
            assert error.pending == [i.real for i in pending]

    @precondition(lambda self: bool(self.frames) and isinstance(self.frames[-1], ModelScope))
    @rule()
    def close_with_exception(self) -> None:
        frame = self.frames.pop()
        assert isinstance(frame, ModelScope)
        try:
            raise Boom
        except Boom:
            frame.real.__exit__(*sys.exc_info())
        frame.state = "discarded"
        frame.buffer = []

    def flush(
        self, scope: ModelScope
    ) -> tuple[list[ModelIntent], ModelIntent, list[ModelIntent]] | str | None:
        """Apply the flush to the model.

        Returns ``None`` when all is well, ``"refused"`` when a capturing ancestor's
        policy refuses a captured intent at its ``on_enqueue`` (``PolicyViolation``
        from the nested exit, nothing captured, nothing sent), or the
        ``DispatchError`` accounting when task "x" fails.
        """
        scope.state = "flushed"
        kept = []
        memo: dict[ModelPolicy, set[Any]] = {}
        for intent in scope.buffer:
            judges = [*reversed(intent.layers)] if intent.origin is scope else []
            if all(p.allows(intent.key, memo) for p in [*judges, scope.policy]):
                kept.append(intent)
        for ancestor in reversed(self.open_scopes()):
            if not kept:
                break
            allowed = ancestor.lets_through(kept)
            captured = [i for i in kept if i not in allowed]
            if any(ancestor.policy.refuses_at_enqueue(i.key[0]) for i in captured):
                return "refused"
            ancestor.buffer.extend(captured)
            kept = allowed
        failing = next((n for n, i in enumerate(kept) if i.key[0] == "x"), None)
        if failing is None:
            self.expected.extend(kept)
            return None
        self.expected.extend(kept[:failing])
        return kept[:failing], kept[failing], kept[failing + 1 :]

    # -- checks ---------------------------------------------------------------

    @invariant()
    def scopes_hold_what_the_model_says(self) -> None:
        for scope in self.scopes:
            real = scope.real
            assert real.is_active == (scope.state == "open")
            assert real.is_flushed == (scope.state == "flushed")
            assert real.is_discarded == (scope.state == "discarded")
            assert real.intents == [i.real for i in scope.buffer]
            assert real.own_intents == [i.real for i in scope.buffer if i.origin is scope]
            assert real.captured_intents == [i.real for i in scope.buffer if i.origin is not scope]

    @invariant()
    def exactly_the_expected_intents_ran_in_order(self) -> None:
        if not self.sync:
            assert self.dispatched == [i.real for i in self.expected]
        assert [i.key for i in self.expected] == RAN

    @invariant()
    def the_current_scope_is_the_innermost_open_one(self) -> None:
        scopes = self.open_scopes()
        assert airlock.get_current_scope() is (scopes[-1].real if scopes else None)

    def teardown(self) -> None:
        try:
            while self.frames:
                self.close()
            self.exactly_the_expected_intents_ran_in_order()
        finally:  # after a failure: leave nothing open for the next example
            for frame in reversed(self.frames):
                real = frame.manager if isinstance(frame, Layer) else frame.real
                with contextlib.suppress(Exception):
                    real.__exit__(None, None, None)


class SyncScopeMachine(ScopeMachine):
    sync = True


@pytest.mark.parametrize("machine", [ScopeMachine, SyncScopeMachine], ids=["recording", "sync"])
def test_scopes_policies_and_exceptions_follow_the_model(
    machine: type[ScopeMachine], monkeypatch: pytest.MonkeyPatch
) -> None:
    if machine.sync:  # no lifecycle hook: the sync executor runs buffers directly
        airlock.plugins.load()
        for hook in ("enqueued", "dispatched", "dropped", "failed", "discarded"):
            monkeypatch.setattr(airlock.lifecycle.lifecycle, hook, None)
    contextvars.copy_context().run(
        run_state_machine_as_test,
        machine,
        settings=settings(max_examples=400, stateful_step_count=40, deadline=None, database=None),
    )
