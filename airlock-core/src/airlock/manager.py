"""The one place that builds airlock's pluggy ``PluginManager`` and loads plugins into it.

Importing this module is free. The manager is built, and the ``airlock``
entry-point group read, the first time airlock needs a name or opens a scope.
Each entry point is loaded on its own: a plugin that fails to import, or a
plugin name two distributions publish, is recorded as a ``PluginFailure``
and logged, and everything else keeps working. airlock-core's own plugin
(``airlock.default_plugins``) is registered through the very hooks a third
party uses: from its entry point, or by import path when entry points are off.
"""

from __future__ import annotations

import importlib
import os
from _thread import RLock

from airlock.errors import UnknownPluginError, UsageError
from airlock.lifecycle import Lifecycle, lifecycle

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    import pluggy

ENTRY_POINT_GROUP = "airlock"
DISABLE_AUTOLOAD_ENV = "AIRLOCK_DISABLE_PLUGIN_AUTOLOAD"
CORE_PLUGIN = "core"
CORE_PLUGIN_MODULE = "airlock.default_plugins"


class PluginFailure:
    """A plugin that could not be registered: its name, distribution(s) and why."""

    __slots__ = ("distributions", "error", "name")

    def __init__(self, name: str, distributions: list[str], error: str) -> None:
        self.name = name
        self.distributions = distributions
        self.error = error

    @property
    def is_conflict(self) -> bool:
        """Two distributions publish a plugin of this name (neither is registered)."""
        return len(self.distributions) > 1

    def __str__(self) -> str:
        if self.is_conflict:
            return (
                f"Two distributions publish the airlock plugin {self.name!r}:"
                f" {' and '.join(self.distributions)}. Uninstall one of them."
            )
        return (
            f"The airlock plugin {self.name!r} (distribution {self.distributions[0]}) failed"
            f" to load: {self.error}. Fix or uninstall it, or set {DISABLE_AUTOLOAD_ENV}=1."
        )


class _State:
    manager: pluggy.PluginManager | None = None
    loaded = False
    ready = False
    failures: list[PluginFailure] = []
    #: plugin name -> (distribution, version), for plugins from entry points.
    distributions: dict[str, tuple[str, str]] = {}
    #: Called after every change of the registered plugins (the registry drops its cache).
    listeners: list[Callable[[], None]] = []


_state = _State()
#: Serialises the first load; re-entrant, so a plugin may use airlock while it loads.
_load_lock = RLock()


def manager() -> pluggy.PluginManager:
    """The pluggy ``PluginManager`` for project ``"airlock"``, built on first use.

    Its ``register()`` and ``unregister()`` take effect at once, as
    ``airlock.plugins.register()`` does: airlock's cached hook callers and
    name registry are refreshed after each.
    """
    if _state.manager is None:
        with _load_lock:
            if _state.manager is None:
                from airlock import hookspecs

                pm = _manager_class()("airlock")
                pm.add_hookspecs(hookspecs)
                _state.manager = pm
    return _state.manager


def _manager_class() -> type[pluggy.PluginManager]:
    """Pluggy's ``PluginManager``, refreshing airlock's caches after every change."""
    import pluggy

    class AirlockPluginManager(pluggy.PluginManager):
        def register(self, plugin: object, name: str | None = None) -> str | None:
            registered = super().register(plugin, name)
            refresh()
            return registered

        def unregister(self, plugin: object | None = None, name: str | None = None) -> object:
            removed = super().unregister(plugin, name)
            refresh()
            return removed

    return AirlockPluginManager


def autoload_disabled() -> bool:
    """Whether ``AIRLOCK_DISABLE_PLUGIN_AUTOLOAD`` turns entry-point discovery off."""
    return os.environ.get(DISABLE_AUTOLOAD_ENV, "").strip().lower() not in ("", "0", "false", "no")


def load() -> pluggy.PluginManager:
    """Load the entry points (once) and core's built-ins; return the manager."""
    pm = manager()
    if not _state.ready:
        with _load_lock:  # other threads wait here until the first load is complete
            if not _state.loaded:
                _state.loaded = True  # a plugin importing airlock while loading skips this
                _load_into(pm)
                refresh()
                _state.ready = True
    return pm


def failures() -> list[PluginFailure]:
    """The plugins that could not be registered, after loading them."""
    load()
    return list(_state.failures)


def _load_into(pm: pluggy.PluginManager) -> None:
    if not autoload_disabled():
        for name, points in _entry_points().items():
            dists = sorted({_dist_name(point) for point in points})
            if len(dists) > 1:
                _fail(PluginFailure(name, dists, "published twice"))
                continue
            point = points[0]
            try:
                plugin = point.load()  # type: ignore[attr-defined]
                if pm.get_plugin(name) is None and not pm.is_blocked(name):
                    pm.register(plugin, name=name)
            except Exception as exc:
                _fail(PluginFailure(name, dists, f"{type(exc).__name__}: {exc}"))
                continue
            dist = getattr(point, "dist", None)
            if dist is not None:
                _state.distributions[name] = (dist.name, dist.version)
    if pm.get_plugin(CORE_PLUGIN) is None and not pm.is_blocked(CORE_PLUGIN):
        pm.register(importlib.import_module(CORE_PLUGIN_MODULE), name=CORE_PLUGIN)


def _entry_points() -> dict[str, list[object]]:
    from importlib.metadata import entry_points

    found: dict[str, list[object]] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(point.name, []).append(point)
    return found


def _dist_name(point: object) -> str:
    dist = getattr(point, "dist", None)
    return dist.name if dist is not None else "?"


def _fail(failure: PluginFailure) -> None:
    import logging  # only on this path: importing logging costs more than all of airlock

    _state.failures.append(failure)
    logging.getLogger("airlock.plugins").warning("airlock: %s", failure)


def distribution_of(plugin_name: str) -> tuple[str, str] | None:
    """``(distribution, version)`` of a plugin loaded from an entry point, else ``None``."""
    load()
    found = _state.distributions.get(plugin_name)
    if found is None and plugin_name == CORE_PLUGIN and manager().get_plugin(CORE_PLUGIN):
        from importlib.metadata import PackageNotFoundError, version

        try:
            return ("airlock-core", version("airlock-core"))
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            return None
    return found


def register(plugin: object, name: str | None = None) -> str:
    """Register ``plugin`` (a module or object with hook implementations) by hand.

    Returns the plugin name. Use it in tests, or in applications that do not
    want entry points. Registered names and hooks take effect at once.
    """
    import pluggy

    load()
    try:
        registered = manager().register(plugin, name=name)
    except (ValueError, pluggy.PluginValidationError) as exc:
        raise UsageError(f"Cannot register plugin {name or plugin!r}: {exc}") from exc
    if registered is None:
        raise UsageError(f"Plugin {name or plugin!r} is blocked and cannot be registered.")
    return registered


def unregister(name: str) -> None:
    """Remove the plugin registered as ``name``."""
    pm = load()
    if pm.get_plugin(name) is None:
        raise UnknownPluginError(f"No plugin named {name!r} is registered.")
    pm.unregister(name=name)


def reset() -> None:
    """Forget every plugin; the next lookup discovers them again (for tests)."""
    _state.manager = None
    _state.loaded = False
    _state.ready = False
    _state.failures = []
    _state.distributions = {}
    refresh()


def on_change(listener: Callable[[], None]) -> None:
    """Call ``listener`` whenever the registered plugins change (the registry's cache)."""
    _state.listeners.append(listener)


def refresh() -> None:
    """Recompute the lifecycle hook callers and tell the listeners plugins changed."""
    pm = _state.manager
    for attribute, hook_name in Lifecycle.HOOKS.items():
        caller = getattr(pm.hook, hook_name) if pm is not None else None
        setattr(lifecycle, attribute, caller if caller and caller.get_hookimpls() else None)
    lifecycle.watching_dispatch = any(
        getattr(lifecycle, slot) is not None
        for slot in ("dispatched", "dispatch_started", "dispatch_finished")
    )
    for listener in _state.listeners:
        listener()
