"""The default executor: each intent goes to the executor that owns its kind of task.

With no executor configured, a Celery task goes to ``celery``, a Dramatiq
actor to ``dramatiq``, a Django ``Task`` to ``django_tasks``, and a plain
callable runs in-process, as the ``sync`` executor runs it. Plugins claim
kinds with ``airlock_register_task_kinds``: a kind is a class, named by its
import path, found in the MRO of the task's type, so telling a task's kind
imports nothing and is worked out once per type.
"""

from __future__ import annotations

from airlock import manager, registry
from airlock.dispatching import DispatchLedger, sync_executor
from airlock.errors import DispatchError, UsageError
from airlock.importing import import_object

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    from airlock.intents import Intent

#: Task classes of frameworks airlock integrates, and the distribution that routes them.
#: A task of one of these kinds that no installed plugin claims is an error, not
#: a silent in-process run.
KNOWN_KINDS = {
    "celery.app.task.Task": "airlock-celery",
    "celery.canvas.Signature": "airlock-celery",
    "celery.local.PromiseProxy": "airlock-celery",  # @app.task before the app is finalized
    "celery.local.celery.local": "airlock-celery",  # @shared_task (Proxy names itself so)
    "dramatiq.actor.Actor": "airlock-dramatiq",
    "django.tasks.base.Task": "airlock-django",
    "huey.api.TaskWrapper": "airlock-huey",
}

IN_PROCESS = "sync"


def kind_paths(cls: type) -> list[str]:
    """The import paths of ``cls`` and its bases, most specific first."""
    return [f"{base.__module__}.{base.__qualname__}" for base in cls.__mro__]


class TaskRouter:
    """Routes each intent to the executor that owns its kind of task (registered as ``auto``).

    It is the executor in force when none is configured. ``executor_name(task)``
    tells where a task would go. A flush mixing kinds sends each executor its
    own intents in one batch, executors in the order they first appear; the
    first executor that fails stops the flush, and the intents of the
    executors after it are pending.
    """

    def __init__(self) -> None:
        self._names: dict[type, str] = {}
        #: Task type -> whether it runs in-process: what a scope's end looks up.
        self.local: dict[type, bool] = {}
        manager.on_change(self._forget)

    def _forget(self) -> None:
        self._names.clear()
        self.local.clear()

    def __repr__(self) -> str:
        return "<airlock executor 'auto' (routing by task kind)>"

    def executor_name(self, task: object) -> str:
        """The registered name of the executor ``task`` goes to (``"sync"``: in-process)."""
        if isinstance(task, str):
            found = registry.resolve_task(task)
            if found is None:
                found = import_object(task, what="task")
            task = found
        cls = type(task)
        name = self._names.get(cls)
        if name is None:
            name = self._names[cls] = _owner(cls)
            self.local[cls] = name == IN_PROCESS
        return name

    def runs_in_process(self, task: object) -> bool:
        """Whether ``task`` runs in-process; ``False`` for a string, or a task it cannot route."""
        try:
            return not isinstance(task, str) and self.executor_name(task) == IN_PROCESS
        except Exception:  # the flush routes it again, and reports why it cannot
            return False

    def executor_for(self, task: object) -> Callable[..., Any]:
        """The executor ``task`` goes to."""
        name = self.executor_name(task)
        if name == IN_PROCESS:
            return sync_executor
        executor: Callable[..., Any] = registry.lookup("executor", name)
        return executor

    def __call__(self, intent: Intent) -> None:
        """Dispatch one intent through the executor of its kind."""
        self.executor_for(intent.task)(intent)

    def dispatch_many(self, intents: Sequence[Intent]) -> None:
        """Send each executor its own intents, as one batch where it can batch."""
        ledger = DispatchLedger(intents)
        groups: dict[int, tuple[Callable[..., Any], list[Intent]]] = {}
        unroutable: tuple[Intent, Exception] | None = None
        for intent in intents:
            try:
                executor = self.executor_for(intent.task)
            except Exception as exc:  # the intents before it still go, as in a plain flush
                unroutable = (intent, exc)
                break
            groups.setdefault(id(executor), (executor, []))[1].append(intent)
        sent = all(_send_group(executor, group, ledger) for executor, group in groups.values())
        if sent and unroutable is not None:
            ledger.failed(*unroutable)
        ledger.settle()


def _send_group(executor: Callable[..., Any], group: list[Intent], ledger: DispatchLedger) -> bool:
    """Send one executor's intents and record the outcome; ``False`` stops the flush."""
    many = getattr(executor, "dispatch_many", None)
    if many is None:
        for intent in group:
            try:
                executor(intent)
            except Exception as exc:
                ledger.failed(intent, exc)
                return False
            ledger.dispatched(intent)
        return True
    try:
        many(group)
    except DispatchError as exc:
        ledger.dispatched(*exc.dispatched)
        for intent, error in exc.failed:
            ledger.failed(intent, error)
        told = {id(i) for i in (*exc.dispatched, *(i for i, _ in exc.failed), *exc.pending)}
        unaccounted = [i for i in group if id(i) not in told]
        if unaccounted:  # the executor did not say: they may or may not have gone out
            ledger.failed(unaccounted, exc)
        return False
    except Exception as exc:
        ledger.failed(group, exc)
        return False
    ledger.dispatched(*group)
    return True


def _owner(cls: type) -> str:
    """The executor name that owns tasks of type ``cls``, or ``"sync"``."""
    for path in kind_paths(cls):
        owner = registry.kind_owner(path)
        if owner is not None:
            return owner
        if path in KNOWN_KINDS:
            distribution = KNOWN_KINDS[path]
            raise UsageError(
                f"A task of type {path} needs an executor, and no installed airlock plugin"
                f" routes that kind of task; it would otherwise run inside this process."
                f" Install {distribution} (pip install {distribution}), or choose an"
                f" executor explicitly (airlock.scope(executor=...), airlock.configure()"
                f" or AIRLOCK_EXECUTOR)."
            )
    return IN_PROCESS


router = TaskRouter()
