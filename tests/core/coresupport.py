"""Importable targets for the tests that select things by dotted path."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import airlock

HERE = Path(__file__).parent

#: What ``append_to_log`` was called with, in order.
LOG: list[tuple[tuple[Any, ...], dict[str, Any]]] = []


def append_to_log(*args: Any, **kwargs: Any) -> None:
    LOG.append((args, kwargs))


def noop(*args: Any, **kwargs: Any) -> None:
    pass


#: Intents the ``recording_executor`` received.
DISPATCHED: list[airlock.Intent] = []


def recording_executor(intent: airlock.Intent) -> None:
    DISPATCHED.append(intent)


class CustomScope(airlock.Scope):
    """A Scope subclass to select by dotted path."""


def not_a_scope() -> None:
    pass


class Recorder:
    """An executor that runs nothing and remembers every intent, in dispatch order."""

    def __init__(self) -> None:
        self.intents: list[airlock.Intent] = []

    def __call__(self, intent: airlock.Intent) -> None:
        self.intents.append(intent)

    @property
    def calls(self) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
        return [(i.name, i.args, dict(i.kwargs)) for i in self.intents]

    @property
    def names(self) -> list[str]:
        return [i.name for i in self.intents]


def subprocess_env(**overrides: str | None) -> dict[str, str]:
    """This process's environment without airlock settings, plus ``overrides``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRLOCK_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_python(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``sys.executable *args`` with a bounded wait and captured text output."""
    return subprocess.run(
        [sys.executable, *args],
        env=env if env is not None else subprocess_env(),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def fake_distribution(
    root: Path, name: str, entry_points: dict[str, str], modules: dict[str, str]
) -> None:
    """Write an installed-looking distribution into ``root`` (put it on PYTHONPATH).

    ``entry_points`` maps plugin names of group ``airlock`` to module names;
    ``modules`` maps module names to their source.
    """
    info = root / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    lines = "".join(f"{plugin} = {module}\n" for plugin, module in entry_points.items())
    (info / "entry_points.txt").write_text(f"[airlock]\n{lines}")
    for module, source in modules.items():
        (root / f"{module}.py").write_text(source)


def env_with_path(root: Path, **overrides: str | None) -> dict[str, str]:
    """``subprocess_env`` with ``root`` first on PYTHONPATH."""
    env = subprocess_env(**overrides)
    env["PYTHONPATH"] = os.pathsep.join([str(root), env["PYTHONPATH"]])
    return env


def run_block(scope: airlock.Scope, body: Callable[[], object]) -> None:
    """``with scope: body()`` as one call, for ``pytest.raises`` around a whole block."""
    with scope:
        body()


def raise_after(error: BaseException, *calls: tuple[Any, ...]) -> Callable[[], None]:
    """A block body: enqueue each ``(task, *args)`` of ``calls``, then raise ``error``."""

    def body() -> None:
        for task, *args in calls:
            airlock.enqueue(task, *args)
        raise error

    return body
