"""The ``django_q`` executor: one ``async_task`` per intent, one broker per flush.

django-q2 has no batch call, and each ``async_task`` without a ``broker``
makes a broker of its own (for Redis, a new client and connection). A flush
makes one broker per cluster and hands it to every ``async_task`` of that
cluster, in order, accounting for each intent with ``DispatchLedger``.

django-q2 reads Django's settings when it is imported, so it is imported at
the first dispatch, not with this module: ``airlock check`` and
``airlock plugins`` can look the executor up outside a Django project.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any, ClassVar

from airlock import Intent
from airlock.plugins import DispatchLedger
from airlock_django_q.options import MESSAGE_ID, Prepared, prepare


class DjangoQExecutor:
    """Send intents to django-q2 with ``async_task(func, *args, q_options=..., **kwargs)``.

    The task is a function a cluster's workers can import, or its dotted path.
    ``_dispatch_options`` are ``async_task``'s options (``group``, ``timeout``,
    ``hook``, ``cluster``, ``broker``, ``save``, ``sync``, ``cached``,
    ``ack_failure``, ``task_name``, or any of them in ``q_options``); they
    reach django-q2 through ``q_options``, so the task's own keyword arguments
    are never mistaken for options. Anything else fails that intent with a
    ``UsageError``, reported through ``DispatchError``.
    """

    message_id_option: ClassVar[str] = MESSAGE_ID
    """The dispatch option under which this executor takes a caller-chosen message id.

    django-q2 makes every task's id itself, but lets the caller name the task,
    and finds results by name as well as by id (``result("order-42")``,
    ``Task.name``). So ``_dispatch_options={"task_name": "order-42"}`` is the
    stable id here: the outbox passes each row's id in it.
    """

    unsafe_options: ClassVar[frozenset[str]] = frozenset({"hook", "sync"})
    """Options a stored outbox row may not carry.

    ``hook`` names a function the cluster calls with the result; ``sync``
    runs the task in the process that enqueues it (the relay) instead of a
    worker.
    """

    def __repr__(self) -> str:
        return "<airlock_django_q executor 'django_q'>"

    def __call__(self, intent: Intent) -> None:
        """Enqueue one intent with ``async_task``."""
        _send(prepare(intent), None)

    def dispatch_many(self, intents: Sequence[Intent]) -> None:
        """Send a whole flush in order, one broker per cluster; stop at the first failure.

        Returns when everything went out; otherwise raises ``DispatchError``
        with what went out, the intent that failed and why, and the rest as
        pending.
        """
        from django_q.brokers import get_broker

        ledger = DispatchLedger(intents)
        brokers: dict[str | None, Any] = {}
        for intent in intents:
            try:
                item = prepare(intent)
                cluster = item.options.get("cluster")
                broker = brokers.get(cluster)
                if broker is None and "broker" not in item.options:
                    broker = brokers[cluster] = get_broker(cluster)
                _send(item, broker)
            except Exception as exc:
                ledger.failed(intent, exc)
                break
            ledger.dispatched(intent)
        ledger.settle()


def _send(item: Prepared, broker: Any) -> None:
    from django_q.tasks import async_task

    options = dict(item.options)  # async_task takes task_name out of q_options
    if broker is not None:
        options.setdefault("broker", broker)
    headers = item.intent.headers
    if not headers:
        async_task(item.func, *item.intent.args, q_options=options, **item.intent.kwargs)
        return
    _carry_headers()
    token = _headers.set(dict(headers))
    try:
        async_task(item.func, *item.intent.args, q_options=options, **item.intent.kwargs)
    finally:
        _headers.reset(token)


#: The key of a django-q task package that carries ``Intent.headers`` to the worker.
HEADERS = "airlock_headers"
#: The headers of the intent ``async_task`` is packaging, for the ``pre_enqueue`` receiver.
_headers: ContextVar[dict[str, str] | None] = ContextVar("airlock_django_q_headers", default=None)


def _carry_headers() -> None:
    """Connect (once) the ``pre_enqueue`` receiver that adds the headers to the task package."""
    from django_q.signals import pre_enqueue

    pre_enqueue.connect(_add_headers, weak=False, dispatch_uid=HEADERS)


def _add_headers(sender: Any, task: dict[str, Any], **kwargs: Any) -> None:
    headers = _headers.get()
    if headers:
        task[HEADERS] = headers


#: The executor registered as ``"django_q"`` (compatibility path:
#: ``airlock.integrations.executors.django_q.django_q_executor``).
django_q_executor = DjangoQExecutor()

__all__ = ["DjangoQExecutor", "django_q_executor"]
