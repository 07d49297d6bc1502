"""The ``airlock`` command: ``airlock plugins [--json]`` and ``airlock check``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Sequence
from typing import cast

from airlock import config, plugins
from airlock.errors import AirlockError


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script and of ``python -m airlock``."""
    parser = argparse.ArgumentParser(prog="airlock", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("plugins", help="list installed plugins and what they register")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    commands.add_parser("check", help="resolve the configuration and report problems")
    args = parser.parse_args(argv)
    if args.command == "plugins":
        return _plugins(as_json=args.json)
    return _check()


def _plugins(*, as_json: bool) -> int:
    try:
        infos = plugins.describe()
    except AirlockError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if as_json:
        print(json.dumps([info.as_dict() for info in infos], indent=2))
        return 0
    rows: list[tuple[str, ...]] = [
        ("PLUGIN", "DISTRIBUTION", "EXECUTORS", "POLICIES", "SCOPES", "HOOKS")
    ]
    for info in infos:
        rows.append(
            (
                info.name,
                f"{info.distribution} {info.version}" if info.distribution else "(by hand)",
                *(", ".join(info.registers[kind]) or "-" for kind in plugins.REGISTRY_HOOKS),
                ", ".join(h.removeprefix("airlock_") for h in info.hooks) or "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return 0


def _check() -> int:
    problems: list[str] = []
    try:
        plugins.load()
    except AirlockError as exc:
        problems.append(str(exc))
    if not problems and os.environ.get("DJANGO_SETTINGS_MODULE"):
        problems += _setup_django()
    summary = ""
    if not problems:
        problems += _unknown_hooks()
        try:
            defaults = config.current()
            summary = (
                f"executor={_label(defaults.executor)} policy={_label(defaults.make_policy())}"
                f" scope={defaults.scope_cls.__name__}"
            )
        except AirlockError as exc:
            problems.append(str(exc))
        for kind in plugins.REGISTRY_HOOKS:
            for name in plugins.names(kind):
                try:
                    plugins.lookup(kind, name)
                except AirlockError as exc:
                    problems.append(str(exc))
        for impl in plugins.manager().hook.airlock_check.get_hookimpls():
            try:
                found = cast("Iterable[str] | None", impl.function())
                problems.extend(found or [])
            except Exception as exc:  # a broken check is itself a problem to report
                problems.append(
                    f"The check of plugin {impl.plugin_name!r} failed: {type(exc).__name__}: {exc}"
                )
    if problems:
        print(f"airlock check: {len(problems)} problem(s)", file=sys.stderr)
        for number, problem in enumerate(dict.fromkeys(problems), 1):
            print(f"  {number}. {problem}", file=sys.stderr)
        return 1
    print(f"airlock check: OK ({summary})")
    return 0


def _unknown_hooks() -> list[str]:
    """Hook implementations that match no hook (a misspelled name is never called)."""
    import pluggy

    try:
        plugins.manager().check_pending()
    except pluggy.PluginValidationError as exc:
        name = plugins.manager().get_name(exc.plugin) or repr(exc.plugin)
        return [f"Plugin {name!r}: {exc}"]
    return []


def _setup_django() -> list[str]:
    try:
        import django

        django.setup()
    except Exception as exc:  # a broken settings module is exactly what check reports
        return [f"Django settings {os.environ['DJANGO_SETTINGS_MODULE']!r} failed to load: {exc}"]
    return []


def _label(obj: object) -> str:
    name = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    module = getattr(obj, "__module__", None) or type(obj).__module__
    return f"{module}.{name}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
