"""The ``airlock`` command: list the installed plugins, check the configuration.

Exit status: 0 when all is well, 1 when ``plugins`` lists a plugin that
failed to load or ``check`` finds a problem, 2 for a command-line mistake.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Sequence
from typing import cast

from airlock import defaults, inventory, manager, plugins, registry
from airlock.errors import AirlockError, CheckWarning
from airlock.routing import IN_PROCESS, router

EPILOG = """\
exit status:
  0  all is well
  1  a plugin failed to load (plugins), or a problem was found (check)
  2  the command line was wrong
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script and of ``python -m airlock``."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "plugins":
        return _plugins(as_json=args.json)
    _django_paths(args.settings, args.pythonpath)
    return _check()


def _parser() -> argparse.ArgumentParser:
    from airlock import __version__

    parser = argparse.ArgumentParser(
        prog="airlock",
        description="Inspect airlock's plugins and configuration.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"airlock {__version__}")
    commands = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")
    listing = commands.add_parser(
        "plugins",
        help="list installed plugins and what they register",
        description=(
            "List every airlock plugin: its distribution and version, the executors,"
            " policies, scopes and task kinds it registers, and the hooks it implements."
            " A plugin that failed to load is listed with its error, and the exit status"
            " is then 1."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    check = commands.add_parser(
        "check",
        help="resolve the configuration and report problems",
        description=(
            "Resolve the configuration a new scope would get (configure() defaults,"
            " AIRLOCK_EXECUTOR, and Django's settings.AIRLOCK when DJANGO_SETTINGS_MODULE"
            " or --settings is given), show where each kind of task goes, and report"
            " every problem found, each with its fix. The exit status is 1 when there is"
            " any."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument(
        "--settings",
        metavar="MODULE",
        help="Django settings module (sets DJANGO_SETTINGS_MODULE), as django-admin takes it",
    )
    check.add_argument(
        "--pythonpath",
        metavar="DIR",
        help="directory to add to the import path, e.g. the project root, as django-admin takes",
    )
    return parser


def _django_paths(settings: str | None, pythonpath: str | None) -> None:
    """Apply ``--settings`` and ``--pythonpath`` (the current directory is on the path too)."""
    if pythonpath:
        sys.path.insert(0, os.path.abspath(pythonpath))
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as django-admin run from the project root finds it
    if settings:
        os.environ["DJANGO_SETTINGS_MODULE"] = settings


def _plugins(*, as_json: bool) -> int:
    try:
        infos = inventory.describe()
    except AirlockError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    broken = [info for info in infos if info.error is not None]
    if as_json:
        print(json.dumps([info.as_dict() for info in infos], indent=2))
    else:
        _print_table(infos)
    for info in broken:
        print(f"error: {info.error}", file=sys.stderr)
    return 1 if broken else 0


def _print_table(infos: list[inventory.PluginInfo]) -> None:
    rows: list[tuple[str, ...]] = [
        ("PLUGIN", "DISTRIBUTION", "EXECUTORS", "POLICIES", "SCOPES", "TASK KINDS", "HOOKS")
    ]
    for info in infos:
        if info.error is not None:
            dist = f"{info.distribution} (FAILED TO LOAD)"
        else:
            dist = f"{info.distribution} {info.version}" if info.distribution else "(by hand)"
        rows.append(
            (
                info.name,
                dist,
                *(", ".join(info.registers[kind]) or "-" for kind in inventory.OFFERS),
                ", ".join(h.removeprefix("airlock_") for h in info.hooks) or "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def _check() -> int:
    problems = [str(failure) for failure in manager.failures()]
    if os.environ.get("DJANGO_SETTINGS_MODULE"):
        problems += _setup_django()
    problems += _unknown_hooks()
    summary: list[str] = []
    try:
        current = defaults.current()
        executor = plugins.executor_name(current.executor) or _label(current.executor)
        summary.append(
            f"executor={executor} policy={_label(current.make_policy())}"
            f" scope={current.scope_cls.__name__}"
        )
        if current.executor is router:
            summary += _routing()
    except AirlockError as exc:
        problems.append(str(exc))
    for kind in registry.REGISTRY_HOOKS:
        for name in registry.names(kind):
            try:
                registry.lookup(kind, name)
            except AirlockError as exc:
                problems.append(str(exc))
    findings = _plugin_checks()
    problems += [f for f in findings if not isinstance(f, CheckWarning)]
    warnings = [f for f in findings if isinstance(f, CheckWarning)]
    for number, warning in enumerate(dict.fromkeys(warnings), 1):
        if number == 1:
            print(f"airlock check: {len(dict.fromkeys(warnings))} warning(s)", file=sys.stderr)
        print(f"  {number}. {warning}", file=sys.stderr)
    if problems:
        print(f"airlock check: {len(dict.fromkeys(problems))} problem(s)", file=sys.stderr)
        for number, problem in enumerate(dict.fromkeys(problems), 1):
            print(f"  {number}. {problem}", file=sys.stderr)
        return 1
    print(f"airlock check: OK ({summary[0]})")
    for line in summary[1:]:
        print(f"  {line}")
    return 0


def _routing() -> list[str]:
    """Where the task router sends each claimed kind of task (and plain callables)."""
    lines = ["routing by task kind (no executor configured):"]
    for path, executor in registry.task_kinds().items():
        lines.append(f"  {path} -> {executor}")
    lines.append(f"  any other callable -> {IN_PROCESS} (in-process)")
    return lines


def _plugin_checks() -> list[str]:
    problems: list[str] = []
    for impl in manager.manager().hook.airlock_check.get_hookimpls():
        try:
            found = cast("Iterable[str] | None", impl.function())
            problems.extend(found or [])
        except Exception as exc:  # a broken check is itself a problem to report
            problems.append(
                f"The check of plugin {impl.plugin_name!r} failed: {type(exc).__name__}: {exc}"
            )
    return problems


def _unknown_hooks() -> list[str]:
    """Hook implementations that match no hook (a misspelled name is never called)."""
    import pluggy

    try:
        manager.load().check_pending()
    except pluggy.PluginValidationError as exc:
        name = manager.manager().get_name(exc.plugin) or repr(exc.plugin)
        return [f"Plugin {name!r}: {exc}"]
    return []


def _setup_django() -> list[str]:
    try:
        import django

        django.setup()
    except Exception as exc:  # a broken settings module is exactly what check reports
        return [
            f"Django settings {os.environ['DJANGO_SETTINGS_MODULE']!r} failed to load: {exc}."
            f" Run from the project root, or pass --pythonpath."
        ]
    return []


def _label(obj: object) -> str:
    name = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    module = getattr(obj, "__module__", None) or type(obj).__module__
    return f"{module}.{name}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
