"""Test code that enqueues effects: no broker, no task mocks, no eager mode.

``capture()`` works under any test runner (unittest, Django's ``TestCase``,
pytest) and imports nothing but airlock. Under pytest, this package is also a
plugin (the ``airlock.testing`` entry point of group ``pytest11``): it loads
``airlock.testing.pytest_plugin``, which adds one fixture and one marker and
nothing else, so a test that does not ask for ``airlock_capture`` runs
exactly as before. ``import airlock`` never imports this package.

    def test_mark_paid(airlock_capture):
        mark_paid(42)
        airlock_capture.assert_enqueued(send_receipt, 42)

The fixture runs the test inside a scope whose policy is ``DropAll`` unless
``@pytest.mark.airlock(policy=..., executor=...)`` says otherwise, so nothing
escapes; scopes the code under test opens are nested in it and release their
intents into it. Without the fixture (for part of a test, or under another
runner) use ``with airlock.testing.capture() as captured:``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any

import airlock
from airlock.plugins import import_object

#: What a test may name a task by: the task itself or a string.
TaskRef = Callable[..., Any] | str


class Call:
    """An expected intent: a task and, when given, its exact arguments.

    ``task`` matches the intent's task by identity, by dotted path
    (``"shop.tasks.send_receipt"``, also against a Celery task's ``name`` or
    a Dramatiq ``actor_name``) or, for a string without dots, by short name
    (``"send_receipt"``). With no arguments any call of the task matches;
    with arguments, ``args`` and ``kwargs`` must equal the intent's exactly
    (``unittest.mock.ANY`` works as a wildcard). ``_dispatch_options``, when
    given, must equal the intent's dispatch options.
    """

    __slots__ = ("args", "check_arguments", "dispatch_options", "kwargs", "task")

    def __init__(
        self,
        task: TaskRef,
        /,
        *args: Any,
        _dispatch_options: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if not callable(task) and not isinstance(task, str):
            raise airlock.UsageError(
                f"Name the expected task by the task itself or a string, got {task!r}"
                f" ({type(task).__name__})."
            )
        self.task = task
        self.args = args
        self.kwargs = kwargs
        self.dispatch_options = _dispatch_options
        self.check_arguments = bool(args or kwargs)

    def matches(self, intent: airlock.Intent) -> bool:
        """Whether ``intent`` is a call of this task with these arguments."""
        if not _same_task(self.task, intent.task):
            return False
        if self.check_arguments and (
            self.args != intent.args or self.kwargs != dict(intent.kwargs)
        ):
            return False
        return self.dispatch_options is None or self.dispatch_options == dict(
            intent.dispatch_options or {}
        )

    def __repr__(self) -> str:
        name = self.task if isinstance(self.task, str) else airlock.Intent(self.task).name
        text = name
        if self.check_arguments:
            parts = [repr(a) for a in self.args]
            parts.extend(f"{k}={v!r}" for k, v in self.kwargs.items())
            text = f"{name}({', '.join(parts)})"
        if self.dispatch_options is not None:
            text += f" options={dict(self.dispatch_options)!r}"
        return text


def call(
    task: TaskRef,
    /,
    *args: Any,
    _dispatch_options: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> Call:
    """An expected intent for ``assert_enqueued_in_order``: same arguments as ``enqueue``."""
    return Call(task, *args, _dispatch_options=_dispatch_options, **kwargs)


def _same_task(expected: object, actual: object) -> bool:
    if expected is actual:
        return True
    if isinstance(actual, partial):
        return _same_task(expected, actual.func)
    if isinstance(expected, str):
        if "." not in expected and ":" not in expected:
            return airlock.Intent(actual).name == expected
        return expected.replace(":", ".") in _references(actual)
    if not isinstance(actual, str):
        return False  # two objects: only the very same task matches
    return not _references(expected).isdisjoint(_references(actual))


def _references(task: object) -> set[str]:
    """The dotted names a task is known by: its import path and any task name."""
    if isinstance(task, str):
        return {task.replace(":", ".")}
    if isinstance(task, partial):
        return _references(task.func)
    found = set()
    module = getattr(task, "__module__", None)
    qualname = getattr(task, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str):
        found.add(f"{module}.{qualname}")
    for attribute in ("name", "actor_name"):
        value = getattr(task, attribute, None)
        if isinstance(value, str):
            found.add(value)
    return found


def _as_call(expected: TaskRef | Call) -> Call:
    return expected if isinstance(expected, Call) else Call(expected)


def _count(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


class CaptureScope(airlock.Scope):
    """A scope that remembers what ``run_all()`` already ran, so its flush skips those."""

    __slots__ = ("ran",)

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.ran: dict[int, airlock.Intent] = {}

    def dispatch_all(self, intents: list[airlock.Intent]) -> None:
        """Dispatch the intents ``run_all()`` has not run already."""
        remaining = [i for i in intents if id(i) not in self.ran]
        if remaining:
            super().dispatch_all(remaining)


class Capture:
    """What the code under test enqueued, read from a scope opened around it.

    ``policy`` (default ``DropAll()``: nothing escapes) and ``executor``
    (default: the configured one) are the scope's, as for ``airlock.scope()``:
    objects, registered names or dotted paths. The scope flushes when the
    capture ends normally and discards on an exception, like any scope.
    Intents stay readable after the end.
    """

    def __init__(self, *, policy: object = None, executor: object = None) -> None:
        self._scope = CaptureScope(
            policy=airlock.DropAll() if policy is None else policy, executor=executor
        )

    @property
    def scope(self) -> airlock.Scope:
        """The scope the capture opened around the code under test."""
        return self._scope

    # -- reading ----------------------------------------------------------

    @property
    def intents(self) -> list[airlock.Intent]:
        """Every intent that reached the capture, in order (a copy).

        That is the intents enqueued directly inside it and those that nested
        scopes released into it when they flushed (after their own policies).
        """
        return self._scope.intents

    @property
    def names(self) -> list[str]:
        """The short task names of ``intents``, in order."""
        return [i.name for i in self._scope.intents]

    def describe(self, highlight: Iterable[airlock.Intent] = ()) -> str:
        """The captured intents, one per line, numbered; ``highlight`` ones marked."""
        intents = self._scope.intents
        if not intents:
            return "Nothing was enqueued."
        marked = {id(i) for i in highlight}
        lines = [f"Enqueued ({len(intents)}):"]
        for number, intent in enumerate(intents, 1):
            line = f"  {number}. {intent!r}"
            if intent.local_policies and intent.origin is self._scope:
                layered = ", ".join(repr(p) for p in intent.local_policies)
                line += f" [layered: {layered}]"
            if id(intent) in marked:
                line += "  <- matches"
            lines.append(line)
        return "\n".join(lines)

    # -- assertions -------------------------------------------------------

    def assert_enqueued(
        self,
        task: TaskRef,
        /,
        *args: Any,
        times: int | None = None,
        _dispatch_options: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[airlock.Intent]:
        """Assert ``task`` was enqueued (``times`` times exactly, when given); return the matches.

        Takes the arguments of the ``enqueue`` call it checks; see ``Call``
        for how the task and arguments match.
        """
        __tracebackhide__ = True
        expected = Call(task, *args, _dispatch_options=_dispatch_options, **kwargs)
        found = [i for i in self._scope.intents if expected.matches(i)]
        if times is None and not found:
            self._fail(f"Expected {expected!r} to be enqueued, but it was not.")
        if times is not None and len(found) != times:
            self._fail(
                f"Expected {expected!r} to be enqueued {_count(times)}, but it was enqueued"
                f" {_count(len(found))}.",
                found,
            )
        return found

    def assert_not_enqueued(
        self,
        task: TaskRef,
        /,
        *args: Any,
        _dispatch_options: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Assert no intent matches ``task`` (with these arguments, when given)."""
        __tracebackhide__ = True
        expected = Call(task, *args, _dispatch_options=_dispatch_options, **kwargs)
        found = [i for i in self._scope.intents if expected.matches(i)]
        if found:
            self._fail(
                f"Expected {expected!r} not to be enqueued, but it was enqueued"
                f" {_count(len(found))}.",
                found,
            )

    def assert_nothing_enqueued(self) -> None:
        """Assert the capture holds no intent at all."""
        __tracebackhide__ = True
        if self._scope.intents:
            self._fail("Expected nothing to be enqueued.")

    def assert_enqueued_in_order(
        self, expected: Iterable[TaskRef | Call], *, exact: bool = False
    ) -> None:
        """Assert the intents appear in this order; others may come between them.

        Each item is a task (any call of it matches) or ``call(task, *args,
        **kwargs)``. With ``exact=True`` the capture must hold exactly these
        intents, in this order, and nothing else.
        """
        __tracebackhide__ = True
        calls = [_as_call(e) for e in expected]
        intents = self._scope.intents
        wanted = ", ".join(repr(c) for c in calls)
        if exact:
            if len(calls) != len(intents) or not all(
                c.matches(i) for c, i in zip(calls, intents, strict=True)
            ):
                self._fail(f"Expected exactly these intents, in this order: {wanted}.")
            return
        matched: list[airlock.Intent] = []
        for intent in intents:
            if len(matched) < len(calls) and calls[len(matched)].matches(intent):
                matched.append(intent)
        if len(matched) < len(calls):
            missing = calls[len(matched)]
            where = f" after {calls[len(matched) - 1]!r}" if matched else ""
            self._fail(
                f"Expected these intents in this order: {wanted}; found no {missing!r}{where}.",
                matched,
            )

    def _fail(self, message: str, highlight: Iterable[airlock.Intent] = ()) -> None:
        __tracebackhide__ = True
        raise AssertionError(f"{message}\n{self.describe(highlight)}")

    # -- running ----------------------------------------------------------

    def run_all(self) -> list[Any]:
        """Run the captured intents not run yet, in order, in-process; return their results.

        Each task runs in its own nested scope, as airlock's worker
        integrations run tasks: what it enqueues is captured too (call
        ``run_all()`` again to run that), and is discarded if it raises.
        Policies layered with ``airlock.policy()`` inside the capture apply;
        the capture's own policy does not (it decides what its flush lets
        out, not what a test runs). The first failure stops the run with a
        ``DispatchError`` naming the intent; the intents after it stay
        pending for the next ``run_all()``.
        """
        scope = self._scope
        if not scope.is_active:
            raise airlock.ScopeStateError(
                "run_all() runs the captured intents inside the capture, so that what they"
                " enqueue is captured too; call it before the capture ends."
            )
        todo = [i for i in scope.intents if id(i) not in scope.ran]
        results = []
        done: list[airlock.Intent] = []
        for position, intent in enumerate(todo):
            scope.ran[id(intent)] = intent
            if not self._layered_policies_allow(intent):
                continue
            try:
                results.append(_run(intent))
            except Exception as exc:
                raise airlock.DispatchError(done, [(intent, exc)], todo[position + 1 :]) from exc
            done.append(intent)
        return results

    def _layered_policies_allow(self, intent: airlock.Intent) -> bool:
        if intent.origin is not self._scope:
            return True  # a nested scope applied them when it released the intent
        return all(p.allows(intent) for p in reversed(intent.local_policies))

    # -- lifecycle --------------------------------------------------------

    def __enter__(self) -> Capture:
        self._scope.enter()
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        self.finish(flush=exc is None)

    def finish(self, *, flush: bool) -> None:
        """End the capture: flush (the policy decides what escapes) or discard."""
        self._scope.exit()
        if flush:
            self._scope.flush()
        else:
            self._scope.discard()

    def __repr__(self) -> str:
        return f"<Capture {self._scope!r}>"


def _run(intent: airlock.Intent) -> Any:
    task = intent.task
    if isinstance(task, str):
        task = import_object(task, what="task")
    with airlock.scope(_cls=airlock.Scope, policy=airlock.AllowAll()):
        return task(*intent.args, **intent.kwargs)


def capture(*, policy: object = None, executor: object = None) -> Capture:
    """Capture what a block enqueues: ``with airlock.testing.capture() as captured:``."""
    return Capture(policy=policy, executor=executor)


#: Under pytest, registering this package registers the fixture and marker too.
pytest_plugins = ["airlock.testing.pytest_plugin"]

__all__ = ["Call", "Capture", "CaptureScope", "call", "capture"]
