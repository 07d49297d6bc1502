"""Worker-side scoping: every message a Dramatiq worker processes runs in an airlock scope."""

from __future__ import annotations

import logging
import threading
from typing import Any

import dramatiq

import airlock
from airlock import AirlockError, Scope
from airlock.plugins import running_task
from airlock_dramatiq.actors import HEADERS

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

    Around the scope, the run is announced to plugins
    (``airlock.plugins.running_task``) with the headers the message's intent
    carried (its ``airlock_headers`` option).

    Add it to the broker before declaring actors::

        broker.add_middleware(AirlockMiddleware(executor="dramatiq"))
    """

    def __init__(self, **scope_options: Any) -> None:
        self.scope_options = scope_options
        self._local = threading.local()

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        """Open the message's scope in the worker thread."""
        running = running_task(message.actor_name, message.options.get(HEADERS))
        running.__enter__()
        self._local.running = running
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
            self._finish(exception)
            return
        try:
            if not scope.should_flush(exception):
                scope.discard()
                return
            try:
                scope.flush()
            except AirlockError as error:
                logger.error("Message %s: its effects failed to dispatch: %s", message, error)
                message.stuff_exception(error)
                message.fail()
                exception = error
        finally:
            self._finish(exception)

    def after_skip_message(self, broker: dramatiq.Broker, message: Any) -> None:
        """A skipped message lets nothing out."""
        scope = self._take()
        try:
            if scope is not None:
                scope.discard()
        finally:
            self._finish(None)

    def _finish(self, exception: BaseException | None) -> None:
        running: running_task | None = getattr(self._local, "running", None)
        if running is not None:
            self._local.running = None
            running.__exit__(
                None if exception is None else type(exception),
                exception,
                None if exception is None else exception.__traceback__,
            )

    def _take(self) -> Scope | None:
        scope: Scope | None = getattr(self._local, "scope", None)
        if scope is None:
            return None
        self._local.scope = None
        scope.exit()
        return scope
