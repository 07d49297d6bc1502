"""The import-linter contracts (run by ``nox -s lint``) cover every module of airlock-core."""

from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "airlock-core" / "src" / "airlock"

#: The modules a plugin may import (with the package itself, ``airlock``).
PUBLIC = {"plugins", "testing", "integrations"}


def contracts() -> dict[str, dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {contract["type"]: contract for contract in config["contracts"]}


def core_modules() -> set[str]:
    found = {path.stem for path in PACKAGE.glob("*.py") if path.stem != "__init__"}
    found |= {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").exists()}
    return found


def test_every_core_module_sits_in_exactly_one_layer() -> None:
    layers = contracts()["layers"]["layers"]
    assert isinstance(layers, list)
    placed = [name.strip() for layer in layers for name in layer.split("|")]
    assert sorted(placed) == sorted(core_modules())


def test_every_private_core_module_is_forbidden_to_the_integrations() -> None:
    forbidden = contracts()["forbidden"]["forbidden_modules"]
    assert isinstance(forbidden, list)
    assert sorted(forbidden) == sorted(
        f"airlock.{m}" for m in core_modules() - PUBLIC - {"__main__"}
    )


def test_every_integration_distribution_is_held_to_the_public_api() -> None:
    sources = contracts()["forbidden"]["source_modules"]
    assert isinstance(sources, list)
    packages = {
        path.name
        for path in ROOT.glob("airlock-*/src/airlock_*")
        if (path / "__init__.py").exists()
    }
    assert packages <= set(sources)
