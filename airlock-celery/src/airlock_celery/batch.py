"""One app's producer for the length of a flush, batched where kombu can batch.

With kombu >= 5.7 the producer's ``batch()`` lets the transport group publishes
(on Redis: one pipeline per chunk instead of one round trip per message);
elsewhere every publish goes out at once over the same producer. Either way
each message is built by ``task.apply_async()``, so workers receive exactly
what ``.apply_async()`` would have sent.
"""

from __future__ import annotations

from contextlib import ExitStack, suppress
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airlock import Intent

#: kombu flushes a batch by itself once it holds this many broker commands; the
#: the batch flushes earlier, by intent count, so it always knows what went out.
_NEVER_AUTOFLUSH = 2**31


class FlushFailed(Exception):
    """The broker refused a batch: ``intents`` (published into it) did not all go out."""

    def __init__(self, intents: list[Intent], error: BaseException) -> None:
        super().__init__(f"{len(intents)} buffered messages were not confirmed sent: {error}")
        self.intents = intents
        self.error = error


class Batch:
    """Publishes intents of one Celery app over one producer until ``close()``.

    ``held`` are the intents published since the last successful ``flush()``:
    in a kombu batch they may still be waiting in the pipeline.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.held: list[Intent] = []
        self._stack = ExitStack()
        self._batch: Any = None
        try:
            self.producer = self._stack.enter_context(app.producer_or_acquire())
            batch = getattr(self.producer, "batch", None)
            if batch is not None:
                self._batch = self._stack.enter_context(batch(max_size=_NEVER_AUTOFLUSH))
        except BaseException:
            self._stack.close()
            raise

    def publish(self, task: Any, intent: Intent) -> None:
        """Hand one intent to ``task.apply_async()`` over the shared producer."""
        options = intent.dispatch_options
        kwargs = dict(intent.kwargs)
        if options:
            task.apply_async(intent.args, kwargs, **{"producer": self.producer, **options})
        else:
            task.apply_async(intent.args, kwargs, producer=self.producer)
        self.held.append(intent)

    def flush(self) -> list[Intent]:
        """Send what the batch holds; return the intents now known to be sent.

        Raises ``FlushFailed`` (and abandons the batch) if the broker fails.
        """
        if self._batch is not None and self.held:
            try:
                self._batch.flush()
            except Exception as exc:
                lost, self.held = self.held, []
                self.abandon(exc)
                raise FlushFailed(lost, exc) from exc
        sent, self.held = self.held, []
        return sent

    def close(self) -> list[Intent]:
        """Flush, then release the producer to the app's pool."""
        sent = self.flush()
        self._stack.close()
        return sent

    def abandon(self, error: BaseException | None = None) -> None:
        """Drop what the batch still holds and release the producer."""
        if error is None:
            error = RuntimeError("airlock flush abandoned")
        # Already failing: a second error from the teardown must not hide the first.
        with suppress(Exception):
            self._stack.__exit__(type(error), error, error.__traceback__)
