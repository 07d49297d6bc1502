"""What the registered plugins offer, by name: executors, policies, scopes and task kinds.

The registry hooks are called once, at the first lookup, and their answers
are kept until the registered plugins change (``airlock.manager`` tells).
A name two plugins offer, or a task kind two plugins claim, is an error when
it is used, naming both.
"""

from __future__ import annotations

from collections.abc import Mapping

from airlock import manager
from airlock.errors import PluginConflictError, UnknownPluginError, UsageError
from airlock.importing import import_object

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Literal

    Kind = Literal["executor", "policy", "scope"]

REGISTRY_HOOKS: dict[Kind, str] = {
    "executor": "airlock_register_executors",
    "policy": "airlock_register_policies",
    "scope": "airlock_register_scopes",
}

#: Names airlock's own distributions register, for "pip install ..." hints.
PROVIDERS: dict[str, str] = {
    "celery": "airlock-celery",
    "django": "airlock-django",
    "django_tasks": "airlock-django",
    "outbox": "airlock-django",
    "dramatiq": "airlock-dramatiq",
    "rq": "airlock-rq",
    "huey": "airlock-huey",
    "django_q": "airlock-django-q",
    "opentelemetry": "airlock-opentelemetry",
}


class _Offers:
    """One load's answers of the registry hooks, with the names claimed twice."""

    __slots__ = ("conflicts", "kinds", "names")

    def __init__(self) -> None:
        #: kind -> name -> (object or lazy reference, plugin name)
        self.names: dict[Kind, dict[str, tuple[Any, str]]] = {}
        #: (kind or "task kind", name) -> the plugins that offer it
        self.conflicts: dict[tuple[str, str], list[str]] = {}
        #: task class path -> (executor name, plugin name)
        self.kinds: dict[str, tuple[str, str]] = {}


_offers: _Offers | None = None


def _forget() -> None:
    global _offers
    _offers = None


manager.on_change(_forget)


def _current() -> _Offers:
    global _offers
    pm = manager.load()
    offers = _offers
    if offers is None:
        offers = _Offers()
        for kind, hook_name in REGISTRY_HOOKS.items():
            offers.names[kind] = _collect(pm, hook_name, kind, offers.conflicts)
        offers.kinds = _collect(pm, "airlock_register_task_kinds", "task kind", offers.conflicts)
        _offers = offers
    return offers


def _collect(
    pm: Any, hook_name: str, kind: str, conflicts: dict[tuple[str, str], list[str]]
) -> dict[str, tuple[Any, str]]:
    names: dict[str, tuple[Any, str]] = {}
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        offered = impl.function()
        if not isinstance(offered, Mapping):
            raise UsageError(
                f"Plugin {impl.plugin_name!r}: {hook_name}() must return a mapping"
                f" of names to objects, got {type(offered).__name__}."
            )
        for name, obj in offered.items():
            if name in names and not _same(names[name][0], obj):
                conflicts.setdefault((kind, name), [names[name][1]]).append(impl.plugin_name)
            else:
                names[name] = (obj, impl.plugin_name)
    return names


def _same(registered: object, offered: object) -> bool:
    """Whether two plugins offer the same object (or the same lazy reference)."""
    return registered is offered or (isinstance(offered, str) and registered == offered)


def names(kind: Kind) -> dict[str, str]:
    """Registered names of one kind, each mapped to the plugin that offers it."""
    return {name: plugin for name, (_, plugin) in sorted(_current().names[kind].items())}


def lookup(kind: Kind, name: str) -> Any:
    """The object registered as ``name``; raise ``UnknownPluginError`` if none is."""
    offers = _current()
    owners = offers.conflicts.get((kind, name))
    if owners:
        raise PluginConflictError(_conflict_message(kind, name, owners))
    registered = offers.names[kind]
    try:
        obj, plugin_name = registered[name]
    except KeyError:
        raise _unknown(kind, name, sorted(registered)) from None
    if isinstance(obj, str):  # a lazy reference: import it now, once
        obj = import_object(obj, what=f"{kind} {name!r} of plugin {plugin_name!r}")
        registered[name] = (obj, plugin_name)
    return obj


def task_kinds() -> dict[str, str]:
    """Task class paths claimed by plugins, each mapped to the executor name that owns it."""
    return {path: executor for path, (executor, _) in sorted(_current().kinds.items())}


def kind_claims() -> dict[str, tuple[str, str]]:
    """Task class paths claimed by plugins: ``(executor name, plugin name)`` for each."""
    return dict(sorted(_current().kinds.items()))


def kind_owner(path: str) -> str | None:
    """The executor name that owns the task class at ``path``, or ``None``.

    Raises ``PluginConflictError`` when two plugins claim it.
    """
    offers = _current()
    owners = offers.conflicts.get(("task kind", path))
    if owners:
        raise PluginConflictError(_conflict_message("task kind", path, owners))
    claimed = offers.kinds.get(path)
    return None if claimed is None else claimed[0]


def resolve_task(name: str) -> object | None:
    """The task a plugin registered as ``name`` (a Celery task name, an actor name), or ``None``.

    Asks the plugins (``airlock_resolve_task``); imports nothing itself.
    """
    found: object | None = manager.load().hook.airlock_resolve_task(name=name)
    return found


def task_signature(task: object) -> Any:
    """What a plugin says ``task``'s arguments are checked against, or ``None`` (ask the task)."""
    return manager.load().hook.airlock_task_signature(task=task)


def _conflict_message(kind: str, name: str, owners: list[str]) -> str:
    described = " and ".join(f"plugin {o!r} ({_distribution_label(o)})" for o in owners)
    return (
        f"The {kind} {name!r} is registered by {described}. Uninstall one of them, or"
        f" select it by its dotted import path instead."
    )


def _distribution_label(plugin_name: str) -> str:
    found = manager.distribution_of(plugin_name)
    return found[0] if found else "registered by hand"


def _unknown(kind: Kind, name: str, installed: list[str]) -> UsageError:
    import difflib

    failures = manager.failures()
    conflict = next((f for f in failures if f.is_conflict), None)
    if conflict is not None:  # the name may be one of the plugins that were left out
        return PluginConflictError(f"The {kind} {name!r} is not available: {conflict}")
    message = f"Unknown {kind} {name!r}. Installed {kind} names: {', '.join(installed) or 'none'}."
    close = difflib.get_close_matches(name, [*installed, *PROVIDERS], n=1)
    if close and close[0] != name:
        message += f" Did you mean {close[0]!r}?"
    guess = close[0] if close else name
    if guess in PROVIDERS and guess not in installed:
        message += f" {guess!r} is provided by {PROVIDERS[guess]}: pip install {PROVIDERS[guess]}."
    for failure in failures:
        message += f" It may come from a plugin that did not load: {failure}"
    return UnknownPluginError(
        message + f" A dotted import path (package.module.{kind}) also works."
    )
