"""The plugin manager: entry-point discovery, registration and name lookup.

Importing this module is free. The pluggy manager is built, and the
``airlock`` entry-point group read, the first time airlock needs a name or
opens a scope. Set ``AIRLOCK_DISABLE_PLUGIN_AUTOLOAD=1`` to skip entry points
(core's built-ins are still registered) and ``register()`` plugins by hand.
"""

from __future__ import annotations

import os
from _thread import RLock
from collections.abc import Mapping

from airlock import _context
from airlock.errors import AirlockError, PluginConflictError, UnknownPluginError, UsageError
from airlock.policies import check_policy

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Literal

    import pluggy

    from airlock.protocols import Policy
    from airlock.scopes import Scope

    Kind = Literal["executor", "policy", "scope"]

ENTRY_POINT_GROUP = "airlock"
DISABLE_AUTOLOAD_ENV = "AIRLOCK_DISABLE_PLUGIN_AUTOLOAD"
CORE_PLUGIN = "core"

REGISTRY_HOOKS: dict[Kind, str] = {
    "executor": "airlock_register_executors",
    "policy": "airlock_register_policies",
    "scope": "airlock_register_scopes",
}
PROVIDERS: dict[str, str] = {
    "celery": "airlock-celery",
    "django": "airlock-django",
    "django_tasks": "airlock-django",
    "outbox": "airlock-django",
    "dramatiq": "airlock-dramatiq",
    "rq": "airlock-rq",
}


class Lifecycle:
    """The lifecycle hook callers, or ``None`` for each hook nobody implements.

    The engine tests ``lifecycle.enqueued is not None`` and skips the call
    otherwise, so an unimplemented hook costs one attribute read.
    """

    __slots__ = ("discarded", "dispatched", "dropped", "enqueued", "failed")

    HOOKS = {
        "enqueued": "airlock_intent_enqueued",
        "dispatched": "airlock_intent_dispatched",
        "dropped": "airlock_intent_dropped",
        "failed": "airlock_dispatch_failed",
        "discarded": "airlock_scope_discarded",
    }

    def __init__(self) -> None:
        self.enqueued: Callable[..., Any] | None = None
        self.dispatched: Callable[..., Any] | None = None
        self.dropped: Callable[..., Any] | None = None
        self.failed: Callable[..., Any] | None = None
        self.discarded: Callable[..., Any] | None = None


lifecycle = Lifecycle()


class PluginInfo:
    """What ``airlock plugins`` shows about one registered plugin."""

    __slots__ = ("distribution", "hooks", "name", "registers", "version")

    def __init__(
        self,
        name: str,
        distribution: str | None,
        version: str | None,
        registers: dict[str, list[str]],
        hooks: list[str],
    ) -> None:
        self.name = name
        self.distribution = distribution
        self.version = version
        self.registers = registers
        self.hooks = hooks

    def as_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict."""
        return {field: getattr(self, field) for field in self.__slots__}


class _State:
    manager: pluggy.PluginManager | None = None
    loaded = False
    ready = False
    load_error: AirlockError | None = None
    registry: dict[Kind, dict[str, tuple[Any, str]]] | None = None
    conflicts: dict[tuple[Kind, str], list[str]] = {}


_state = _State()
#: Serialises the first load; re-entrant, so a plugin may use airlock while it loads.
_load_lock = RLock()


def manager() -> pluggy.PluginManager:
    """The pluggy ``PluginManager`` for project ``"airlock"``, built on first use."""
    if _state.manager is None:
        with _load_lock:
            if _state.manager is None:
                import pluggy

                from airlock import hookspecs

                pm = pluggy.PluginManager("airlock")
                pm.add_hookspecs(hookspecs)
                _state.manager = pm
    return _state.manager


def autoload_disabled() -> bool:
    """Whether ``AIRLOCK_DISABLE_PLUGIN_AUTOLOAD`` turns entry-point discovery off."""
    return os.environ.get(DISABLE_AUTOLOAD_ENV, "").strip().lower() not in ("", "0", "false", "no")


def load() -> pluggy.PluginManager:
    """Load the entry points (once) and core's built-ins; return the manager.

    A plugin that fails to import, or two distributions that publish the same
    plugin name, make every later lookup raise, loudly, naming the culprit.
    """
    pm = manager()
    if not _state.ready:
        with _load_lock:  # other threads wait here until the first load is complete
            if not _state.loaded:
                _state.loaded = True  # a plugin importing airlock while loading skips this
                _load_into(pm)
                _refresh()
                _state.ready = True
    if _state.load_error is not None:
        raise _state.load_error
    return pm


def _load_into(pm: pluggy.PluginManager) -> None:
    if not autoload_disabled():
        try:
            _check_duplicate_entry_points()
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        except AirlockError as exc:
            _state.load_error = exc
        except Exception as exc:
            _state.load_error = AirlockError(
                f"The airlock plugin {_culprit()} failed to load:"
                f" {type(exc).__name__}: {exc}."
                f" Fix or uninstall it, or set {DISABLE_AUTOLOAD_ENV}=1."
            )
            _state.load_error.__cause__ = exc
    if pm.get_plugin(CORE_PLUGIN) is None and not pm.is_blocked(CORE_PLUGIN):
        from airlock import builtins

        pm.register(builtins, name=CORE_PLUGIN)


def _culprit() -> str:
    """The entry point that fails to load, with its distribution (failure path only)."""
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            ep.load()
        except Exception:
            return f"{ep.name!r} (distribution {ep.dist.name if ep.dist else '?'})"
    return "(unidentified)"


def _check_duplicate_entry_points() -> None:
    from importlib.metadata import entry_points

    owners: dict[str, set[str]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.name if ep.dist is not None else "?"
        owners.setdefault(ep.name, set()).add(dist)
    for name, dists in owners.items():
        if len(dists) > 1:
            raise PluginConflictError(
                f"Two distributions publish the airlock plugin {name!r}:"
                f" {' and '.join(sorted(dists))}. Uninstall one of them."
            )


def register(plugin: object, name: str | None = None) -> str:
    """Register ``plugin`` (a module or object with hook implementations) by hand.

    Returns the plugin name. Use it in tests, or in applications that do not
    want entry points. Registered names take effect at the next lookup.
    """
    import pluggy

    load()
    try:
        registered = manager().register(plugin, name=name)
    except (ValueError, pluggy.PluginValidationError) as exc:
        raise UsageError(f"Cannot register plugin {name or plugin!r}: {exc}") from exc
    if registered is None:
        raise UsageError(f"Plugin {name or plugin!r} is blocked and cannot be registered.")
    _refresh()
    return registered


def unregister(name: str) -> None:
    """Remove the plugin registered as ``name``."""
    pm = load()
    if pm.get_plugin(name) is None:
        raise UnknownPluginError(f"No plugin named {name!r} is registered.")
    pm.unregister(name=name)
    _refresh()


def reset() -> None:
    """Forget every plugin; the next lookup discovers them again (for tests)."""
    _state.manager = None
    _state.loaded = False
    _state.ready = False
    _state.load_error = None
    _refresh()


def _refresh() -> None:
    """Recompute the lifecycle callers and drop the cached name registry."""
    _state.registry = None
    _state.conflicts = {}
    pm = _state.manager
    for attribute, hook_name in Lifecycle.HOOKS.items():
        caller = getattr(pm.hook, hook_name) if pm is not None else None
        setattr(lifecycle, attribute, caller if caller and caller.get_hookimpls() else None)
    if lifecycle.enqueued is not None:
        _context.watched = True


def _registry() -> dict[Kind, dict[str, tuple[Any, str]]]:
    pm = load()
    if _state.registry is None:
        registry: dict[Kind, dict[str, tuple[Any, str]]] = {}
        conflicts: dict[tuple[Kind, str], list[str]] = {}
        for kind, hook_name in REGISTRY_HOOKS.items():
            names: dict[str, tuple[Any, str]] = {}
            for impl in getattr(pm.hook, hook_name).get_hookimpls():
                offered = impl.function()
                if not isinstance(offered, Mapping):
                    raise UsageError(
                        f"Plugin {impl.plugin_name!r}: {hook_name}() must return a mapping"
                        f" of names to objects, got {type(offered).__name__}."
                    )
                for entry_name, obj in offered.items():
                    if entry_name in names and not _same(names[entry_name][0], obj):
                        owners = conflicts.setdefault((kind, entry_name), [names[entry_name][1]])
                        owners.append(impl.plugin_name)
                    else:
                        names[entry_name] = (obj, impl.plugin_name)
            registry[kind] = names
        _state.registry, _state.conflicts = registry, conflicts
    return _state.registry


def names(kind: Kind) -> dict[str, str]:
    """Registered names of one kind, each mapped to the plugin that offers it."""
    return {name: plugin for name, (_, plugin) in sorted(_registry()[kind].items())}


def lookup(kind: Kind, name: str) -> Any:
    """The object registered as ``name``; raise ``UnknownPluginError`` if none is."""
    registry = _registry()
    owners = _state.conflicts.get((kind, name))
    if owners:
        described = " and ".join(
            f"plugin {o!r} ({distribution(o) or 'registered by hand'})" for o in owners
        )
        raise PluginConflictError(
            f"The {kind} name {name!r} is registered by {described}. Uninstall one of"
            f" them, or select the {kind} by its dotted import path instead."
        )
    try:
        obj, plugin_name = registry[kind][name]
    except KeyError:
        raise UnknownPluginError(_unknown_message(kind, name, sorted(registry[kind]))) from None
    if isinstance(obj, str):  # a lazy reference: import it now, once
        obj = import_object(obj, what=f"{kind} {name!r} of plugin {plugin_name!r}")
        registry[kind][name] = (obj, plugin_name)
    return obj


def _same(registered: object, offered: object) -> bool:
    """Whether two plugins offer the same object (or the same lazy reference)."""
    return registered is offered or (isinstance(offered, str) and registered == offered)


def _unknown_message(kind: Kind, name: str, installed: list[str]) -> str:
    import difflib

    message = f"Unknown {kind} {name!r}. Installed {kind} names: {', '.join(installed) or 'none'}."
    close = difflib.get_close_matches(name, [*installed, *PROVIDERS], n=1)
    if close and close[0] != name:
        message += f" Did you mean {close[0]!r}?"
    guess = close[0] if close else name
    if guess in PROVIDERS and guess not in installed:
        message += f" {guess!r} is provided by {PROVIDERS[guess]}: pip install {PROVIDERS[guess]}."
    return message + f" A dotted import path (package.module.{kind}) also works."


def distribution(plugin_name: str) -> str | None:
    """The distribution that installed ``plugin_name``, or ``None`` if registered by hand."""
    info = _distinfo().get(plugin_name)
    return info[0] if info else None


def _distinfo() -> dict[str, tuple[str, str]]:
    pm = load()
    found = {}
    for plugin, dist in pm.list_plugin_distinfo():
        plugin_name = pm.get_name(plugin)
        if plugin_name is not None:
            found[plugin_name] = (dist.project_name, dist.version)
    if CORE_PLUGIN not in found and pm.get_plugin(CORE_PLUGIN) is not None:
        from airlock import __version__

        found[CORE_PLUGIN] = ("airlock-core", __version__)
    return found


def describe() -> list[PluginInfo]:
    """Every registered plugin, with its distribution, what it registers and its hooks."""
    pm = load()
    registry = _registry()
    dists = _distinfo()
    infos = []
    for plugin_name, plugin in sorted(pm.list_name_plugin(), key=lambda pair: pair[0]):
        registers: dict[str, list[str]] = {
            kind: sorted(n for n, (_, owner) in registry[kind].items() if owner == plugin_name)
            for kind in REGISTRY_HOOKS
        }
        hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
        dist, version = dists.get(plugin_name, (None, None))
        infos.append(PluginInfo(plugin_name, dist, version, registers, hooks))
    return infos


def import_object(path: str, *, what: str = "object") -> Any:
    """Import ``package.module.attr`` (or ``package.module:attr``) and return it."""
    import importlib

    module_name, sep, attribute = path.rpartition(":") if ":" in path else path.rpartition(".")
    if not sep or not module_name or not attribute:
        raise UnknownPluginError(
            f"{what} {path!r} is not a dotted import path like 'package.module.name'."
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UnknownPluginError(
            f"Cannot import the {what} {path!r}: {exc}. Check the spelling, and that the"
            f" distribution that provides {module_name!r} is installed."
        ) from exc
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise UnknownPluginError(
            f"Cannot import the {what} {path!r}: module {module_name!r} has no"
            f" attribute {attribute!r}."
        ) from None


def _named(kind: Kind, value: str, source: str) -> Any:
    """Resolve a name or dotted path; errors say where the value came from."""
    try:
        if "." in value or ":" in value:
            return import_object(value, what=kind)
        return lookup(kind, value)
    except (UnknownPluginError, PluginConflictError) as exc:
        if source == kind:
            raise
        raise type(exc)(f"{source}: {exc}") from exc.__cause__


def resolve_executor(value: object, *, source: str = "executor") -> Callable[..., Any]:
    """An executor from itself, a registered name or a dotted path."""
    if not isinstance(value, (str, type)) and callable(value):
        return value
    obj = _named("executor", value, source) if isinstance(value, str) else value
    if isinstance(obj, type):
        raise UsageError(
            f"{source} is the class {obj.__qualname__}, not an executor: pass an instance,"
            f" e.g. {obj.__qualname__}()."
        )
    if not callable(obj):
        raise UsageError(
            f"{source} must be an executor (a callable taking an Intent), a registered"
            f" name such as 'sync', or a dotted path; got {value!r}."
        )
    return obj  # type: ignore[no-any-return]


def resolve_scope_class(value: object, *, source: str = "scope class") -> type[Scope]:
    """A ``Scope`` subclass from itself, a registered name or a dotted path."""
    from airlock.scopes import Scope

    obj = _named("scope", value, source) if isinstance(value, str) else value
    if not (isinstance(obj, type) and issubclass(obj, Scope)):
        raise UsageError(
            f"{source} must be a subclass of airlock.Scope, a registered scope name such"
            f" as 'default', or a dotted path to one; got {value!r}."
        )
    return obj


class SharedPolicy:
    """A policy factory that hands out the one instance it was given, every time."""

    __slots__ = ("instance",)

    def __init__(self, instance: Policy) -> None:
        self.instance = instance

    def __call__(self) -> Policy:
        """The shared instance."""
        return self.instance


def policy_factory(value: object, *, source: str = "policy") -> Callable[[], Policy]:
    """Something that makes the policy: a given instance is reused, a class is called.

    ``value`` may be a policy instance, a policy class or zero-argument factory,
    a registered name such as ``"drop_all"``, or a dotted path to any of these.
    """
    obj = _named("policy", value, source) if isinstance(value, str) else value
    if isinstance(value, str):
        source = f"{source} {value!r}"
    if not isinstance(obj, type) and hasattr(obj, "allows") and hasattr(obj, "on_enqueue"):
        return SharedPolicy(check_policy(obj, source))
    if not callable(obj):
        check_policy(obj, source)  # raises with the explanation

    def make() -> Policy:
        try:
            made = obj()  # type: ignore[operator]
        except TypeError as exc:
            raise UsageError(
                f"{source} {value!r} cannot be built without arguments ({exc}); pass an"
                f" instance instead, e.g. BlockTasks({{'send_email'}})."
            ) from exc
        return check_policy(made, source)

    return make


def resolve_policy(value: object, *, source: str = "policy") -> Policy:
    """A policy instance from an instance, class, registered name or dotted path."""
    if not isinstance(value, (str, type)) and hasattr(value, "allows"):
        return check_policy(value, source)
    return policy_factory(value, source=source)()
