"""Worker-side scoping: every message a Dramatiq worker processes runs in an airlock scope."""

from __future__ import annotations

import logging
import threading
from typing import Any

import dramatiq

import airlock
from airlock import AirlockError, Scope

logger = logging.getLogger("airlock_dramatiq")


class AirlockMiddleware(dramatiq.Middleware):
    """Run each message in ``airlock.scope(**scope_options)``.

    The scope opens before the actor runs and closes after it, in the worker
    thread that processes the message. On success its intents are flushed;
    when the actor raises (a failure, a ``dramatiq.Retry``, a time limit) or
    the message is skipped, they are discarded, so a retried message leaves
    nothing behind from its failed attempts.

    Dramatiq middleware cannot fail a message after the actor returned, so a
    flush that raises ``DispatchError`` is logged (with the full accounting)
    and the message is marked failed: it is not acked as a success.

    Add it to the broker before declaring actors::

        broker.add_middleware(AirlockMiddleware(executor="dramatiq"))
    """

    def __init__(self, **scope_options: Any) -> None:
        self.scope_options = scope_options
        self._local = threading.local()

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        """Open the message's scope in the worker thread."""
        self._local.scope = airlock.scope(**self.scope_options).enter()

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        """Flush the scope if the actor succeeded, discard it otherwise."""
        scope = self._take()
        if scope is None:
            return
        if not scope.should_flush(exception):
            scope.discard()
            return
        try:
            scope.flush()
        except AirlockError as error:
            logger.error("Message %s: its effects failed to dispatch: %s", message, error)
            message.stuff_exception(error)
            message.fail()

    def after_skip_message(self, broker: dramatiq.Broker, message: Any) -> None:
        """A skipped message lets nothing out."""
        scope = self._take()
        if scope is not None:
            scope.discard()

    def _take(self) -> Scope | None:
        scope: Scope | None = getattr(self._local, "scope", None)
        if scope is None:
            return None
        self._local.scope = None
        scope.exit()
        return scope
