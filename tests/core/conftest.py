"""Core suite: every test starts from airlock's defaults and leaves them so."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from coresupport import Recorder

import airlock


@pytest.fixture(autouse=True)
def defaults(fresh_airlock: None) -> None:
    """Every test starts from airlock's defaults (see tests/conftest.py)."""


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def register_plugin() -> Iterator[Callable[[object, str], str]]:
    """Register plugin objects by hand; every one is unregistered after the test."""
    registered: list[str] = []

    def register(plugin: object, name: str) -> str:
        registered.append(airlock.plugins.register(plugin, name=name))
        return name

    yield register
    for name in registered:
        if airlock.plugins.manager().get_plugin(name) is not None:
            airlock.plugins.unregister(name)


@pytest.fixture
def core_plugins_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Only airlock-core's built-ins, whatever else is installed; rediscover afterwards."""
    monkeypatch.setenv("AIRLOCK_DISABLE_PLUGIN_AUTOLOAD", "1")
    airlock.plugins.reset()
    airlock.plugins.load()
    yield
    monkeypatch.delenv("AIRLOCK_DISABLE_PLUGIN_AUTOLOAD")
    airlock.plugins.reset()
