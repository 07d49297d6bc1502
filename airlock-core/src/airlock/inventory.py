"""What ``airlock plugins`` shows: each plugin, its distribution, what it offers and hooks."""

from __future__ import annotations

from airlock import manager, registry

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class PluginInfo:
    """One plugin as ``airlock plugins`` lists it; ``error`` is set for one that failed to load."""

    __slots__ = ("distribution", "error", "hooks", "name", "registers", "version")

    def __init__(
        self,
        name: str,
        distribution: str | None,
        version: str | None,
        registers: dict[str, list[str]],
        hooks: list[str],
        error: str | None = None,
    ) -> None:
        self.name = name
        self.distribution = distribution
        self.version = version
        self.registers = registers
        self.hooks = hooks
        self.error = error

    def as_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict."""
        return {field: getattr(self, field) for field in self.__slots__}


#: What a plugin may register, as ``airlock plugins`` names the columns.
OFFERS = ("executor", "policy", "scope", "task kind")


def describe() -> list[PluginInfo]:
    """Every plugin: those registered, then those that failed to load (with their error)."""
    pm = manager.load()
    owners: dict[str, dict[str, list[str]]] = {}
    for kind in registry.REGISTRY_HOOKS:
        for name, owner in registry.names(kind).items():
            owners.setdefault(owner, {}).setdefault(kind, []).append(name)
    for path, (executor, claimant) in registry.kind_claims().items():
        owners.setdefault(claimant, {}).setdefault("task kind", []).append(f"{path} -> {executor}")
    infos = []
    for plugin_name, plugin in sorted(pm.list_name_plugin(), key=lambda pair: pair[0]):
        offered = owners.get(plugin_name, {})
        registers = {kind: sorted(offered.get(kind, [])) for kind in OFFERS}
        hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
        dist, version = manager.distribution_of(plugin_name) or (None, None)
        infos.append(PluginInfo(plugin_name, dist, version, registers, hooks))
    for failure in manager.failures():
        registers = {kind: [] for kind in OFFERS}
        infos.append(
            PluginInfo(
                failure.name, ", ".join(failure.distributions), None, registers, [], str(failure)
            )
        )
    return infos


def distribution(plugin_name: str) -> str | None:
    """The distribution that installed ``plugin_name``, or ``None`` if registered by hand."""
    found = manager.distribution_of(plugin_name)
    return found[0] if found else None
