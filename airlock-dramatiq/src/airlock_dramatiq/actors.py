"""Find the actor behind a task, and turn an intent into what Dramatiq sends.

A task is an actor (``@dramatiq.actor``), a class-based actor (a
``dramatiq.GenericActor`` subclass, which Dramatiq turns into an instance of
that class when it declares the actor), an actor's name on the global broker,
or the dotted path of an actor.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any, NamedTuple

import dramatiq
import dramatiq.broker
from dramatiq.errors import ActorNotFound

from airlock import Intent, UsageError

#: Options Dramatiq sets on messages itself, beyond the actor options middleware declare.
MESSAGE_OPTIONS = frozenset({"pipe_target"})
#: airlock's own option: the message id, chosen by the caller instead of generated.
MESSAGE_ID = "message_id"
#: The message option that carries ``Intent.headers`` to the worker (``AirlockMiddleware``).
HEADERS = "airlock_headers"


class Prepared(NamedTuple):
    """One intent, checked and ready for ``actor.send_with_options``."""

    intent: Intent
    actor: dramatiq.Actor[Any, Any]
    delay: int | None
    options: dict[str, Any]
    message_id: str | None = None


def prepare(intent: Intent) -> Prepared:
    """Find the intent's actor and check its options; ``UsageError`` says what is wrong."""
    actor = resolve_actor(intent)
    options = dict(intent.dispatch_options or {})
    for name in ("queue_name", "queue"):
        if name in options:
            raise UsageError(
                f"{intent!r}: Dramatiq sends a message to its actor's queue; there is no"
                f" per-message {name!r} option. Set it on the actor:"
                f" @dramatiq.actor(queue_name=...)."
            )
    delay = options.pop("delay", None)
    if isinstance(delay, timedelta):
        delay = int(delay.total_seconds() * 1000)
    if delay is not None and (not isinstance(delay, int) or isinstance(delay, bool) or delay < 0):
        raise UsageError(
            f"{intent!r}: 'delay' is a number of milliseconds or a timedelta, got {delay!r}."
        )
    message_id = None
    if MESSAGE_ID in options:
        message_id = options.pop(MESSAGE_ID)
        if not isinstance(message_id, str) or not message_id:
            raise UsageError(
                f"{intent!r}: {MESSAGE_ID!r} is the message's id, a non-empty string; got"
                f" {message_id!r}."
            )
    known = actor.broker.actor_options | MESSAGE_OPTIONS
    unknown = sorted(set(options) - known)
    if unknown:
        raise UsageError(
            f"{intent!r}: unknown Dramatiq option(s) {', '.join(map(repr, unknown))}. The"
            f" dramatiq executor accepts 'delay', {MESSAGE_ID!r} and what the broker's"
            f" middleware declare: {', '.join(sorted(known))}."
        )
    if intent.headers:
        options[HEADERS] = dict(intent.headers)
    return Prepared(intent, actor, delay, options, message_id)


def resolve_actor(intent: Intent) -> dramatiq.Actor[Any, Any]:
    """The actor of ``intent``'s task; ``UsageError`` when the task is not one."""
    task = intent.task
    actor = as_actor(task)
    if actor is not None:
        return actor
    if isinstance(task, str):
        actor = declared_actor(task)
        if actor is None:
            actor = as_actor(_import(task))
        if actor is not None:
            return actor
        raise UsageError(
            f"{intent!r}: {task!r} is neither an actor declared on the global Dramatiq"
            f" broker nor the dotted path of an actor."
        )
    raise UsageError(
        f"{intent!r}: the dramatiq executor sends Dramatiq actors, and {task!r} is not"
        f" one. Decorate it with @dramatiq.actor, or dispatch it with executor='sync'."
    )


def as_actor(task: object) -> dramatiq.Actor[Any, Any] | None:
    """The actor ``task`` is (an ``Actor``, or a class-based actor's instance), else ``None``."""
    if isinstance(task, dramatiq.Actor):
        return task
    if isinstance(task, dramatiq.GenericActor):
        # Declared on its broker under its actor name: attributes GenericActor documents.
        generic: Any = task
        found: dramatiq.Actor[Any, Any] = generic.broker.get_actor(generic.actor_name)
        return found
    return None


def declared_actor(name: str) -> dramatiq.Actor[Any, Any] | None:
    """The actor declared as ``name`` on Dramatiq's global broker, if there is one.

    Reads the global broker without ``dramatiq.get_broker()``, which would
    create and install a default broker when the application set none.
    """
    broker = dramatiq.broker.global_broker
    if broker is None:
        return None
    try:
        return broker.get_actor(name)
    except ActorNotFound:
        return None


def actor_function(task: object) -> Callable[..., Any] | None:
    """What an actor's arguments are checked against at enqueue; ``None`` if not an actor.

    An actor's ``fn`` (for an ``async def`` actor, Dramatiq's wrapper keeps
    the coroutine function's signature); for a class-based actor, its
    ``perform`` method, since the instance's ``__call__`` takes anything.
    """
    if isinstance(task, dramatiq.GenericActor):
        perform: Callable[..., Any] = task.perform
        return perform
    if not isinstance(task, dramatiq.Actor):
        return None
    function: Callable[..., Any] = task.fn
    if isinstance(function, dramatiq.GenericActor):  # the Actor a class-based actor declared
        perform = function.perform
        return perform
    return function


def _import(path: str) -> object:
    module_name, _, attribute = path.replace(":", ".").rpartition(".")
    if not module_name:
        return None
    try:
        return getattr(importlib.import_module(module_name), attribute, None)
    except ImportError:
        return None
