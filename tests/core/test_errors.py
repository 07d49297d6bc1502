"""The error hierarchy of SPEC §3, exported from ``airlock``."""

from __future__ import annotations

import pytest

import airlock


@pytest.mark.parametrize(
    ("error", "parent"),
    [
        (airlock.UsageError, airlock.AirlockError),
        (airlock.NoScopeError, airlock.UsageError),
        (airlock.PolicyEnqueueError, airlock.UsageError),
        (airlock.ScopeStateError, airlock.UsageError),
        (airlock.UnknownPluginError, airlock.UsageError),
        (airlock.PluginConflictError, airlock.UsageError),
        (airlock.PolicyViolation, airlock.AirlockError),
        (airlock.DispatchError, airlock.AirlockError),
        (airlock.AirlockError, Exception),
    ],
)
def test_hierarchy(error: type[Exception], parent: type[Exception]) -> None:
    assert issubclass(error, parent)


@pytest.mark.parametrize("error", [airlock.PolicyViolation, airlock.DispatchError])
def test_runtime_errors_are_not_usage_errors(error: type[Exception]) -> None:
    assert not issubclass(error, airlock.UsageError)


def test_usage_errors_are_siblings() -> None:
    siblings = [
        airlock.NoScopeError,
        airlock.PolicyEnqueueError,
        airlock.ScopeStateError,
        airlock.UnknownPluginError,
    ]
    for error in siblings:
        assert [other for other in siblings if issubclass(error, other)] == [error]


def test_dispatch_error_keeps_lists() -> None:
    intent = airlock.Intent(print, ("x",))
    failure = RuntimeError("down")
    error = airlock.DispatchError((), [(intent, failure)], (intent,))
    assert error.dispatched == []
    assert error.failed == [(intent, failure)]
    assert error.pending == [intent]
    assert "RuntimeError: down" in str(error)


def test_dispatch_error_message_summarises_many_failures() -> None:
    intents = [airlock.Intent(print, (n,)) for n in range(5)]
    error = airlock.DispatchError([], [(i, RuntimeError(str(i.args[0]))) for i in intents], [])
    assert "and 2 more failures" in str(error)


def test_every_public_name_exists() -> None:
    missing = [name for name in airlock.__all__ if not hasattr(airlock, name)]
    assert missing == []


def test_policy_and_executor_protocols_are_runtime_checkable() -> None:
    assert isinstance(airlock.DropAll(), airlock.Policy)
    assert isinstance(airlock.sync_executor, airlock.Executor)
    assert not isinstance(object(), airlock.Policy)
