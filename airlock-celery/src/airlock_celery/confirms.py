"""Publisher confirms for a flush over RabbitMQ (py-amqp): one wait per batch, not per message.

AMQP's ``basic.publish`` has no reply. Without confirms, a message the broker
drops (its exchange does not exist, no queue is bound for it, a full queue
rejects it) looks sent, and so do the messages after it on a channel the
broker has closed. In confirm mode (``confirm.select``) the broker numbers the
messages of a channel from 1 and answers each one: ``basic.ack`` (stored),
``basic.nack`` (refused), preceded by ``basic.return`` for a ``mandatory``
message it could not route.

A flush publishes on a channel of airlock's own on the pooled connection, in
confirm mode, without waiting, and then waits once for the answers;
acknowledgements that arrive meanwhile are read as py-amqp drains the socket
before each publish. Nothing else publishes on that channel (Celery's own
publishes use the connection's default channel), so every answer it gets
belongs to a flush; it stays open for the connection's next flush, and is
forgotten, with its connection, when a flush fails.

Kombu's own ``confirm_publish`` transport option waits for the answer of each
message in turn (one round trip per message); with it set the flush still
reads the same answers, more slowly, and a refused message stops it there.
"""

from __future__ import annotations

import weakref
from itertools import takewhile
from typing import TYPE_CHECKING, Any

from kombu.messaging import Producer

from airlock_celery.errors import DeliveryUncertain, MessageRefused

if TYPE_CHECKING:
    from airlock import Intent
    from airlock.plugins import DispatchLedger


_NACKED = (
    "RabbitMQ refused the message (basic.nack): an internal error, or a queue that rejects"
    " publishes when full (x-overflow: reject-publish)."
)


class _Reopen:
    """What kombu's ``ensure()`` revives after reconnecting: nothing, ``start`` reopens."""

    def revive(self, channel: Any) -> None:
        """Nothing to do: the next attempt looks up the new connection's channel."""


_REOPEN = _Reopen()

#: Each py-amqp connection's confirm channel, kept open between flushes.
_channels: weakref.WeakKeyDictionary[Any, Confirms] = weakref.WeakKeyDictionary()


def supports_confirms(connection: Any) -> bool:
    """Whether the pooled kombu connection is py-amqp's, where the flush reads confirms."""
    return connection.transport.driver_name == "py-amqp"  # type: ignore[no-any-return]


class Confirms:
    """A pooled connection's confirm-mode channel, and what the broker answered in a flush.

    ``producer`` publishes on that channel; set ``current`` to the intent
    whose messages are being published (the task message, and Celery's
    ``task-sent`` event when the app sends one). ``wait()`` returns once
    every message is answered; ``settle()`` records each intent in the ledger.
    """

    @classmethod
    def begin(cls, connection: Any, timeout: float | None, retry_policy: Any) -> Confirms:
        """The connection's confirm channel, ready for a flush; opened on its first flush.

        Starting a flush costs one round trip (``confirm.select`` again, on a
        channel kept open from earlier flushes, or opening one): it also proves
        the pooled connection alive, and where it is not, Celery's
        ``task_publish_retry_policy`` reconnects as for any publish.
        """

        def start() -> Confirms:
            confirms = _channels.get(connection.connection)
            if confirms is None or not confirms.channel.is_open:
                confirms = _channels[connection.connection] = cls(connection)
            else:
                confirms.channel.confirm_select()
            return confirms

        if retry_policy is not None:
            start = connection.ensure(_REOPEN, start, **retry_policy)
        confirms = start()
        confirms._start_flush(timeout)
        return confirms

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.timeout: float | None = None
        self.current: Intent | None = None
        #: What broke the channel or the connection while publishing, if anything did.
        self.broken: BaseException | None = None
        #: Delivery tag -> the intent and correlation id of a message not answered yet.
        self._waiting: dict[int, tuple[Intent, str | None]] = {}
        #: The tag of the channel's last message (the broker numbers them from 1).
        self._tags = 0
        #: id(intent) -> how many of its messages are not answered yet.
        self._unanswered: dict[int, int] = {}
        #: id(intent) -> why the broker did not take one of its messages.
        self._refused: dict[int, MessageRefused] = {}
        self._stray: MessageRefused | None = None
        self.channel = connection.channel()
        self.channel.events["basic_ack"].add(self._acked)
        self.channel.events["basic_nack"].add(self._nacked)
        self.channel.confirm_select()
        self.producer = ConfirmingProducer(self.channel, self)

    def _start_flush(self, timeout: float | None) -> None:
        """Forget the last flush's answers (all of them came: it did not fail)."""
        self.timeout = timeout
        self.current = None
        self.broken = None
        self._unanswered.clear()
        self._refused.clear()
        self._stray = None

    def discard(self) -> None:
        """Forget the channel: a failed flush left it, or its connection, in doubt."""
        for amqp_connection, confirms in list(_channels.items()):
            if confirms is self:
                del _channels[amqp_connection]

    def expect(self, correlation_id: str | None) -> int:
        """Number the next message of ``current``, as the broker will; return its tag."""
        assert self.current is not None
        self._tags += 1
        self._waiting[self._tags] = (self.current, correlation_id)
        key = id(self.current)
        self._unanswered[key] = self._unanswered.get(key, 0) + 1
        return self._tags

    def retract(self, tag: int) -> None:
        """The message numbered ``tag`` never reached the channel (it could not be encoded)."""
        intent, _ = self._waiting.pop(tag)
        self._unanswered[id(intent)] -= 1
        self._tags -= 1

    def _acked(self, tag: int, multiple: bool) -> None:
        self._answer(tag, multiple, None)

    def _nacked(self, tag: int, multiple: bool) -> None:
        self._answer(tag, multiple, MessageRefused(_NACKED))

    def _answer(self, tag: int, multiple: bool, refusal: MessageRefused | None) -> None:
        tags = list(takewhile(tag.__ge__, self._waiting)) if multiple else [tag]
        for answered in tags:
            intent, _ = self._waiting.pop(answered, (None, None))
            if intent is None:
                continue
            self._unanswered[id(intent)] -= 1
            if refusal is not None:
                self._refused.setdefault(id(intent), refusal)

    def returned(self, exc: Any, exchange: str, routing_key: str, message: Any) -> None:
        """``basic.return``: the broker could not route a ``mandatory`` message."""
        refusal = MessageRefused(
            f"RabbitMQ returned the message as unroutable ({exc}): no queue is bound to"
            f" exchange {exchange!r} with routing key {routing_key!r}."
        )
        correlation_id = message.properties.get("correlation_id")
        for intent, sent_id in self._waiting.values():
            if sent_id == correlation_id is not None and id(intent) not in self._refused:
                self._refused[id(intent)] = refusal
                return
        self._stray = refusal  # cannot tell which message it was: none is certain

    def wait(self) -> None:
        """Return once the broker has answered every message; raise if it cannot or does not."""
        if self.broken is not None:
            raise self.broken
        drain = self.connection.drain_events
        while self._waiting:
            try:
                drain(timeout=self.timeout)
            except TimeoutError as exc:  # socket.timeout
                raise TimeoutError(
                    f"RabbitMQ did not confirm {len(self._waiting)} messages within"
                    f" {self.timeout} s"
                ) from exc

    def settle(
        self, held: list[Intent], ledger: DispatchLedger, error: BaseException | None = None
    ) -> bool:
        """Record each of ``held``; return whether every one was confirmed.

        A refused message fails its intent; one not answered (``error`` says
        why) fails it as uncertain.
        """
        uncertain: list[Intent] = []
        confirmed: list[Intent] = []
        for intent in held:
            key = id(intent)
            refusal = self._refused.get(key)
            if refusal is not None:
                ledger.failed(intent, refusal)
            elif self._unanswered.get(key, 0) or self._stray is not None:
                uncertain.append(intent)
            else:
                confirmed.append(intent)
        ledger.dispatched(*confirmed)
        if uncertain:
            cause = error or self._stray
            failure = DeliveryUncertain(
                f"The broker did not confirm this message ({type(cause).__name__}: {cause});"
                f" it may or may not have been stored."
            )
            failure.__cause__ = cause
            ledger.failed(uncertain, failure)
        return len(confirmed) == len(held)


def _not_sent(exc: BaseException) -> bool:
    """Whether ``exc`` left the channel as it was: the message was never handed to it."""
    from kombu.exceptions import ContentDisallowed, EncodeError

    return isinstance(exc, (EncodeError, ContentDisallowed))


class ConfirmingProducer(Producer):
    """Kombu's producer on the confirm channel, numbering each message it publishes.

    Kombu's own reconnect-and-retry is off (``retry=False``): a message
    republished on another channel would go unconfirmed. A lost connection
    fails the batch instead, its unconfirmed messages as uncertain.
    """

    def __init__(self, channel: Any, confirms: Confirms) -> None:
        super().__init__(channel, on_return=confirms.returned)  # type: ignore[no-untyped-call]
        self.confirms = confirms

    def publish(self, body: Any, *args: Any, **kwargs: Any) -> Any:
        """Publish on the confirm channel, as ``Producer.publish``; number the message."""
        from amqp.exceptions import MessageNacked  # type: ignore[import-untyped]

        kwargs["retry"] = False
        tag = self.confirms.expect(kwargs.get("correlation_id"))
        try:
            return super().publish(body, *args, **kwargs)  # type: ignore[no-untyped-call]
        except MessageNacked as exc:  # confirm_publish=True: py-amqp waited and read the nack
            raise MessageRefused(_NACKED) from exc
        except BaseException as exc:
            if _not_sent(exc):
                self.confirms.retract(tag)
            elif self.confirms.broken is None:
                self.confirms.broken = exc
            raise


__all__ = ["ConfirmingProducer", "Confirms", "supports_confirms"]
