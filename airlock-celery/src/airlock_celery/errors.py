"""What a flush reports, in ``DispatchError.failed``, about messages the broker did not take.

Both are failures of one intent. They differ in what the application may
assume: a refused message is certainly not on the broker (send it again), a
message whose delivery is uncertain may be (a retry can make a duplicate,
which the task id set by ``task_id`` lets a worker recognise).
"""

from __future__ import annotations

from airlock import AirlockError


class MessageRefused(AirlockError):
    """The broker answered that it did not take the message.

    RabbitMQ negatively acknowledged it (``basic.nack``: an internal error, or a
    queue full with ``x-overflow: reject-publish``), or returned it as
    unroutable (``basic.return``: no queue is bound for its exchange and
    routing key).
    """


class DeliveryUncertain(AirlockError):
    """The broker may or may not have stored the message.

    The broker failed, or did not answer within the flush's timeout, after the
    message was handed to it and before it confirmed it: the connection was
    lost, the channel was closed by an error, a confirm or a Redis reply did
    not come. The cause is chained (``__cause__``).
    """


__all__ = ["DeliveryUncertain", "MessageRefused"]
