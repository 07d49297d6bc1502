"""Turn an intent into what Dramatiq sends: an actor, a delay and message options."""

from __future__ import annotations

import importlib
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
    return Prepared(intent, actor, delay, options, message_id)


def resolve_actor(intent: Intent) -> dramatiq.Actor[Any, Any]:
    """The actor itself, an actor name on the global broker, or a dotted path to an actor."""
    task = intent.task
    if isinstance(task, dramatiq.Actor):
        return task
    if isinstance(task, str):
        broker = dramatiq.broker.global_broker
        if broker is not None:
            try:
                return broker.get_actor(task)
            except ActorNotFound:
                pass
        found = _import(task)
        if isinstance(found, dramatiq.Actor):
            return found
        raise UsageError(
            f"{intent!r}: {task!r} is neither an actor declared on the global Dramatiq"
            f" broker nor the dotted path of an actor."
        )
    raise UsageError(
        f"{intent!r}: the dramatiq executor sends Dramatiq actors, and {task!r} is not"
        f" one. Decorate it with @dramatiq.actor, or dispatch it with executor='sync'."
    )


def _import(path: str) -> object:
    module_name, _, attribute = path.replace(":", ".").rpartition(".")
    if not module_name:
        return None
    try:
        return getattr(importlib.import_module(module_name), attribute, None)
    except ImportError:
        return None
