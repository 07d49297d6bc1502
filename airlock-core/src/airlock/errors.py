"""The exceptions airlock raises, one family so callers can catch ``AirlockError``."""

from __future__ import annotations

from airlock.describing import describe_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from airlock.intents import Intent


class AirlockError(Exception):
    """Base class of every error airlock raises."""


class UsageError(AirlockError):
    """airlock was called the wrong way; the message says how to call it instead."""


class NoScopeError(UsageError):
    """``enqueue()`` was called with no active scope.

    airlock never lets an effect escape without a boundary that decided so:
    wrap the code in ``with airlock.scope():`` (or ``@airlock.scoped()``).
    """


class PolicyEnqueueError(UsageError):
    """``enqueue()`` was called from inside a policy callback.

    Policies judge intents; they may not create them.
    """


class ScopeStateError(UsageError):
    """A scope was used in a state that does not allow the operation.

    For example: flushing twice, enqueueing into a scope that has ended, or
    leaving a scope in a different context than the one that entered it.
    """


class UnknownPluginError(UsageError):
    """An executor, policy or scope name (or dotted path) could not be resolved."""


class TaskArgumentError(UsageError, TypeError):
    """The arguments given to ``enqueue()`` do not fit the task's signature.

    It is a ``TypeError`` too, as calling the task with them would raise:
    code that catches ``TypeError`` around ``.delay()`` keeps working. Nothing
    was buffered; the scope stays usable.
    """


class PluginConflictError(UsageError):
    """Two plugins registered the same name; the message names both distributions."""


class PolicyViolation(AirlockError):
    """A policy refused an intent at enqueue time (for example ``AssertNoEffects``)."""


class CheckWarning(str):
    """A finding of an ``airlock_check`` hook that is a warning, not a problem.

    ``airlock check`` prints it and still exits 0 when nothing else is wrong:
    ``return [CheckWarning("RELAY_AFTER is 0: ... Set it to 10.")]``.
    """

    __slots__ = ()


class DispatchError(AirlockError):
    """An executor failed during a flush.

    Every intent of the flush is accounted for: ``dispatched`` went out,
    ``failed`` holds ``(intent, exception)`` pairs, ``pending`` were never
    attempted. Nothing is silently lost. The message describes at most three
    failures, each bounded in length, whatever the arguments hold.
    """

    dispatched: list[Intent]
    failed: list[tuple[Intent, BaseException]]
    pending: list[Intent]

    def __init__(
        self,
        dispatched: Sequence[Intent],
        failed: Sequence[tuple[Intent, BaseException]],
        pending: Sequence[Intent],
    ) -> None:
        self.dispatched = list(dispatched)
        self.failed = list(failed)
        self.pending = list(pending)
        super().__init__(self._describe())

    def _describe(self) -> str:
        total = len(self.dispatched) + len(self.failed) + len(self.pending)
        parts = [
            f"{len(self.failed) + len(self.pending)} of {total} intents were not dispatched"
            f" ({len(self.dispatched)} dispatched, {len(self.failed)} failed,"
            f" {len(self.pending)} pending)."
        ]
        for intent, exc in self.failed[:3]:
            parts.append(f"{intent!r} failed: {describe_error(exc)}")
        if len(self.failed) > 3:
            parts.append(f"... and {len(self.failed) - 3} more failures")
        if self.pending:
            parts.append("Pending intents were never attempted; inspect .pending to retry them.")
        return " ".join(parts)
