"""The hooks a plugin may implement, in the style of ``_pytest/hookspec.py``.

Registry hooks are called once, when airlock first looks a name up, and return
mappings of names to objects. A value may also be a lazy reference, the
object's import path (``"package.module:name"``): it is imported only when its
name is looked up, so a plugin that offers an executor for a heavy framework
costs nothing to the processes that never select it.

Task hooks answer questions about one task (find it by name, give its
signature); the first plugin that answers wins.

Lifecycle hooks are called with keyword arguments only; an implementation may
accept any subset of them. While no plugin implements a lifecycle hook,
airlock does not call it at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import pluggy

if TYPE_CHECKING:
    from airlock.intents import Intent
    from airlock.protocols import Policy
    from airlock.scopes import Scope

hookspec = pluggy.HookspecMarker("airlock")
hookimpl = pluggy.HookimplMarker("airlock")


@hookspec
def airlock_register_executors() -> Mapping[str, Callable[..., Any]]:
    """Return executors by name, e.g. ``{"celery": celery_executor}``.

    Called once, at the first name lookup. A name offered by two plugins is an
    error when it is looked up, naming both distributions.
    """


@hookspec
def airlock_register_policies() -> Mapping[str, Callable[..., Policy]]:
    """Return policy factories by name, e.g. ``{"drop_all": DropAll}``.

    Called once, at the first name lookup. A factory is called with no
    arguments each time a scope is configured with its name.
    """


@hookspec
def airlock_register_scopes() -> Mapping[str, type[Scope]]:
    """Return ``Scope`` subclasses by name, e.g. ``{"django": DjangoScope}``.

    Called once, at the first name lookup.
    """


@hookspec
def airlock_register_task_kinds() -> Mapping[str, str]:
    """Return the task classes this plugin's executors own: ``{"celery.app.task.Task": "celery"}``.

    Called once, at the first routing decision. Keys are import paths
    (``module.QualName``) of classes; a task is of a kind when one of the
    classes in its type's MRO has that path, so nothing is imported to tell.
    Values are registered executor names. With no executor configured, an
    intent goes to the executor that owns its task's kind; plain callables
    run in-process. A kind two plugins claim is an error naming both.
    """


@hookspec(firstresult=True)
def airlock_resolve_task(name: str) -> object | None:
    """Return the task registered as ``name`` in this plugin's framework, or ``None``.

    Called when airlock must turn a stored task name back into a task (the
    outbox relay) or route a string task: ``name`` is a Celery task name, a
    Dramatiq actor name, ... Look only in what the application registered;
    never import a module the name points to. The first non-``None`` answer
    is used.
    """


@hookspec(firstresult=True)
def airlock_task_reference(task: object) -> str | None:
    """Return the full name of one of this plugin's task objects, if airlock would get it wrong.

    Called for a task that is neither a string nor a plain function, when its
    name is needed: in messages, by ``BlockTasks`` and by the outbox, which
    stores tasks by name (once the plugins are loaded: the first scope or
    lookup loads them). Without an answer, airlock reads the task's ``name``
    or ``actor_name`` attribute, then its ``__module__`` and ``__qualname__``:
    implement it for task objects that have none of these, or a short
    ``name`` (a Huey ``TaskWrapper``). Return ``None`` for a task that is not
    yours. The first answer is used.
    """


@hookspec(firstresult=True)
def airlock_task_signature(task: object) -> Callable[..., Any] | Literal[False] | None:
    """Return what ``task``'s arguments are checked against at ``enqueue()``, if it is yours.

    Called once per task object (the answer is cached). Return a callable
    whose signature is the task's (a Celery task's ``__header__``, an actor's
    ``fn``), ``False`` to skip the check for this task (its signature is not
    known, or the task opted out), or ``None`` when ``task`` is not of your
    framework. With no answer, airlock checks against ``task`` itself.
    """


@hookspec
def airlock_intent_enqueued(scope: Scope, intent: Intent) -> None:
    """Called after ``intent`` was buffered in ``scope`` and passed ``on_enqueue``.

    The return value is ignored. Raising propagates to the ``enqueue()`` call,
    and the intent is taken out of the buffer again.
    """


@hookspec
def airlock_intent_dispatched(intent: Intent, executor: Callable[..., Any]) -> None:
    """Called after ``executor`` accepted ``intent`` during a flush.

    For a batch (``dispatch_many``) it is called once per intent after the batch
    went out. The return value is ignored.
    """


@hookspec
def airlock_intent_dropped(intent: Intent, policy: Policy) -> None:
    """Called when ``policy`` (a scope or layered policy) dropped ``intent`` at flush.

    The return value is ignored.
    """


@hookspec
def airlock_dispatch_failed(intent: Intent, error: BaseException) -> None:
    """Called for each intent the executor failed to dispatch, before ``DispatchError``.

    The return value is ignored.
    """


@hookspec
def airlock_dispatch_started(
    intents: Sequence[Intent], executor: Callable[..., Any], scope: Scope | None
) -> None:
    """Called when ``intents`` are about to be handed to ``executor``, in one batch.

    ``scope`` is the scope whose flush it is (``None`` for a dispatch outside a
    scope, such as the outbox relay's). A scope that defers its dispatch
    (``DjangoScope`` waits for the commit) calls it when the intents really
    go. The return value is ignored.
    """


@hookspec
def airlock_dispatch_finished(
    intents: Sequence[Intent],
    executor: Callable[..., Any],
    scope: Scope | None,
    error: BaseException | None,
) -> None:
    """Called after the batch ``airlock_dispatch_started`` announced went out, or failed.

    ``error`` is the ``DispatchError`` (with the accounting), what interrupted
    the batch (a ``KeyboardInterrupt``, say: it propagates after this call),
    or ``None``. The return value is ignored.
    """


@hookspec
def airlock_publish_started(intent: Intent) -> None:
    """Called by an executor just before it builds and sends ``intent``'s message.

    Executors that send one message per intent call it through
    ``with airlock.plugins.publishing(intent):``, in the context the message is
    built and sent in, so an implementation may set context variables there
    for the length of that one publish (a tracing plugin makes the enqueuer's
    trace current, so that a publish instrumentation records the send in it).
    The return value is ignored.
    """


@hookspec
def airlock_publish_finished(intent: Intent, error: BaseException | None) -> None:
    """Called after the send ``airlock_publish_started`` announced; ``error`` is what it raised.

    For a broker that batches (a Redis pipeline), "sent" means handed to the
    batch: the flush's outcome comes with ``airlock_dispatch_finished``. The
    return value is ignored.
    """


@hookspec
def airlock_task_started(task_name: str, headers: Mapping[str, str]) -> None:
    """Called by a worker integration just before a task's body runs, in the worker.

    ``task_name`` is the task's full name; ``headers`` are what its intent
    carried (``Intent.headers``), read back from the message (empty when there
    were none). Called in the context the task runs in, so an implementation
    may set context variables there. The return value is ignored.
    """


@hookspec
def airlock_task_finished(task_name: str, error: BaseException | None) -> None:
    """Called by a worker integration after a task's body ran; ``error`` is what it raised.

    Called in the same context as ``airlock_task_started``. The return value
    is ignored.
    """


@hookspec
def airlock_scope_discarded(scope: Scope, intents: Sequence[Intent]) -> None:
    """Called when ``scope`` discarded its buffer; ``intents`` are the lost intents.

    The return value is ignored.
    """


@hookspec
def airlock_check() -> Iterable[str]:
    """Called by ``airlock check`` after the configuration is resolved.

    Return problems found in the plugin's own configuration, each a sentence
    that says what is wrong and how to fix it; return nothing when all is well.
    A finding wrapped in ``airlock.plugins.CheckWarning`` is a warning: it is
    printed, and does not make ``airlock check`` fail.
    """
