"""Core benchmark: airlock (ours) against a direct call and the original airlock-py 0.1.0a3.

    python bench/core/run.py            # full run (N = 100,000, 7 rounds)
    python bench/core/run.py --quick    # smoke run
    python bench/core/run.py --profile  # also: where ours spends its time
    python bench/core/run.py --instructions  # also: CPU instructions per operation

Both libraries import as ``airlock``, so each sample runs in a fresh
interpreter: ours in this one's environment, the original in its own
virtualenv (``bench/.venv-original``, created on first use). Variants
alternate within every round and the table reports medians.

"ours" runs with ``AIRLOCK_DISABLE_PLUGIN_AUTOLOAD=1``: airlock-core and its
built-in plugin only. An installed plugin that implements a lifecycle hook
(the example plugin does) adds that hook's cost to every event; the
"+1 lifecycle hook" column measures exactly that.

The "pure-Python floor" column is a model, not a library (``floor_library`` in
worker.py): ``scope()`` and ``enqueue()`` with airlock's signatures, a fresh
object per block, one ContextVar set/reset, one ``extend`` per intent and the
task run at exit, with no states, policies, hooks or error accounting. It is
the least pure Python can do for this API shape on the machine at hand.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
WORKER = HERE / "worker.py"
ORIGINAL = "airlock-py==0.1.0a3"
ORIGINAL_VENV = ROOT / "bench" / ".venv-original"
RESULTS = ROOT / "bench" / "results" / "core.json"

# The variants of a timing round: label -> (interpreter role, worker library argument).
VARIANTS = {
    "direct": ("ours", "direct"),
    "original": ("original", "airlock"),
    "ours": ("ours", "airlock"),
    "ours+hook": ("ours", "airlock+hook"),
    "floor": ("ours", "floor"),
}

#: The speed budget (issue "The plugin contract"): ours / original, at most.
RATIO_BUDGET = {"per_intent_ns": 0.2, "per_scope_ns": 0.3}
BYTES_BUDGET = 150
IMPORT_MS_BUDGET = 15

TARGETS = {
    **{key: f"<= {limit}x original" for key, limit in RATIO_BUDGET.items()},
    "bytes_per_intent": f"<= {BYTES_BUDGET} B",
    "import_ms": f"< {IMPORT_MS_BUDGET} ms",
    "import_without_pluggy": "no",
}


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of every sample: bytecode on, no stray paths or airlock settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH") and not k.startswith("AIRLOCK_")
    }
    env.update(extra)
    return env


class CommandFailed(RuntimeError):
    """A sample or setup command failed; the message carries its stderr."""


def output(cmd: list[str], **extra: str) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, env=clean_env(**extra))
    if done.returncode != 0:
        raise CommandFailed(f"{' '.join(cmd)} exited with {done.returncode}:\n{done.stderr}")
    return done.stdout.strip()


def original_python() -> str:
    """The interpreter of the original's virtualenv, created (or repaired) if needed."""
    python = ORIGINAL_VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    probe = "import importlib.metadata as m; print(m.version('airlock-py'))"
    if python.exists():
        try:
            if output([str(python), "-c", probe]) == ORIGINAL.split("==")[1]:
                return str(python)
        except CommandFailed:
            pass
    print(f"creating {ORIGINAL_VENV.relative_to(ROOT)} with {ORIGINAL} ...", file=sys.stderr)
    output([sys.executable, "-m", "venv", "--clear", str(ORIGINAL_VENV)])
    output([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", ORIGINAL])
    return str(python)


DESCRIBE = """
import importlib.metadata, json, os, sys, airlock
dist = "airlock-core" if hasattr(airlock, "plugins") else "airlock-py"
print(json.dumps({
    "distribution": dist,
    "version": importlib.metadata.version(dist),
    "package": os.path.dirname(airlock.__file__),
    "python": sys.version.split()[0],
}))
"""


def describe(python: str) -> dict[str, str]:
    """Which airlock this interpreter imports, and its version; compiles its .pyc files."""
    found: dict[str, str] = json.loads(output([python, "-c", DESCRIBE]))
    output([python, "-m", "compileall", "-q", found["package"]])
    return found


def modules_loaded_by_import(python: str) -> dict[str, Any]:
    """What ``import airlock`` pulls in: does it touch pluggy or entry points?"""
    new = ast.literal_eval(
        output(
            [
                python,
                "-c",
                "import sys; before = set(sys.modules); import airlock;"
                " print(sorted(set(sys.modules) - before))",
            ]
        )
    )
    return {
        "modules": len(new),
        "pluggy": any(m == "pluggy" or m.startswith("pluggy.") for m in new),
        "entry_points": "importlib.metadata" in new,
        "plugin_modules": sorted(m for m in new if m.startswith("airlock_")),
    }


def sample(python: str, library: str, n: int, scopes: int) -> dict[str, float]:
    extra = {} if library == "direct" else {"AIRLOCK_DISABLE_PLUGIN_AUTOLOAD": "1"}
    measured: dict[str, float] = json.loads(
        output([python, str(WORKER), library, str(n), str(scopes)], **extra)
    )
    return measured


def callgrind_instructions(cmd: list[str], **extra: str) -> int:
    """Instructions ``cmd`` executes, counted by ``valgrind --tool=callgrind``."""
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
        capture_output=True,
        text=True,
        env=clean_env(**extra),
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise CommandFailed(f"callgrind {' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def instructions(pythons: dict[str, str], intents: int, scopes: int) -> dict[str, dict[str, int]]:
    """Instructions per operation of each variant: (count at K - count at 0) / K.

    Unlike wall-clock time this does not move with the machine's load; the
    interpreter start and warm-up cancel out in the difference.
    """
    counts: dict[str, dict[str, int]] = {}
    for label, (role, library) in VARIANTS.items():
        extra = {} if library == "direct" else {"AIRLOCK_DISABLE_PLUGIN_AUTOLOAD": "1"}
        counts[label] = {}
        for key, workload, k in (
            ("per_intent", "intent", intents),
            ("per_scope", "scope", scopes),
        ):
            base, loaded = (
                callgrind_instructions(
                    [pythons[role], str(WORKER), "only", library, workload, str(count)], **extra
                )
                for count in (0, k)
            )
            counts[label][key] = round((loaded - base) / k)
    return counts


def instructions_table(counts: dict[str, dict[str, int]]) -> str:
    original = counts["original"]
    lines = [
        "metric (instructions per operation) | "
        + " | ".join(f"{label:>10}" for label in counts)
        + " | ours/original | floor/original"
    ]
    for key, label in (("per_intent", "per intent"), ("per_scope", "per scope")):
        lines.append(
            f"{label:<36}| "
            + " | ".join(f"{counts[v][key]:>10,}" for v in counts)
            + f" | {counts['ours'][key] / original[key]:>13.3f}x"
            + f" | {counts['floor'][key] / original[key]:>13.3f}x"
        )
    return "\n".join(lines)


def wall_ms(cmd: list[str]) -> float:
    env = clean_env()
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env)
    return (time.perf_counter() - start) * 1000


def import_times(pythons: dict[str, str], samples: int) -> dict[str, float]:
    """Median of ``python -c "import airlock"`` minus median of ``python -c pass``, in ms."""
    runs: dict[tuple[str, str], list[float]] = {}
    jobs = [(role, code) for role in pythons for code in ("pass", "import airlock")]
    for round_number in range(samples):
        shift = round_number % len(jobs)
        for role, code in jobs[shift:] + jobs[:shift]:
            runs.setdefault((role, code), []).append(wall_ms([pythons[role], "-c", code]))
    return {
        role: statistics.median(runs[(role, "import airlock")])
        - statistics.median(runs[(role, "pass")])
        for role in pythons
    }


def ns(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f} ns" if value < 1000 else f"{value / 1000:,.2f} us"


def table(results: dict[str, Any]) -> str:
    m = results["medians"]
    imp = results["import_ms"]
    loaded = results["import_loads"]
    rows: list[tuple[str, ...]] = [
        (
            "metric",
            "direct call",
            "airlock-py 0.1.0a3",
            "airlock (ours)",
            "ours/original",
            "target",
            "met",
            "ours +1 lifecycle hook",
            "pure-Python floor",
            "floor/original",
        ),
    ]
    specs = [
        ("per intent: enqueue + flush (sync)", "per_intent_ns", ns),
        ("per scope: enter, 1 enqueue, exit", "per_scope_ns", ns),
        (
            "bytes per buffered intent",
            "bytes_per_intent",
            lambda v: "-" if v is None else f"{v:,.0f} B",
        ),
    ]
    for label, key, fmt in specs:
        ours, original = m["ours"][key], m["original"][key]
        rows.append(
            (
                label,
                fmt(m["direct"].get(key)),
                fmt(original),
                fmt(ours),
                f"{ours / original:.3f}x",
                TARGETS[key],
                "yes" if results["met"][key] else "NO",
                fmt(m["ours+hook"][key]),
                fmt(m["floor"][key]),
                f"{m['floor'][key] / original:.3f}x",
            )
        )
    rows.append(
        (
            "import airlock",
            "-",
            f"{imp['original']:.1f} ms",
            f"{imp['ours']:.1f} ms",
            f"{imp['ours'] / imp['original']:.2f}x",
            TARGETS["import_ms"],
            "yes" if results["met"]["import_ms"] else "NO",
            "-",
            "-",
            "-",
        )
    )
    for what, key in (
        ("import loads pluggy", "pluggy"),
        ("import reads entry points", "entry_points"),
    ):
        rows.append(
            (
                what,
                "-",
                "yes" if loaded["original"][key] else "no",
                "yes" if loaded["ours"][key] else "no",
                "-",
                TARGETS["import_without_pluggy"],
                "yes" if not loaded["ours"][key] else "NO",
                "-",
                "-",
                "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small N and few rounds: a smoke run")
    parser.add_argument("-n", type=int, help="intents per scope (default 100,000; quick 10,000)")
    parser.add_argument("--rounds", type=int, help="alternating rounds (default 7; quick 2)")
    parser.add_argument("--scopes", type=int, help="one-intent scopes per sample (default 50,000)")
    parser.add_argument(
        "--import-samples", type=int, help="interpreter starts per variant (default 40)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile ours and print the top entries"
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count instructions per operation with valgrind (slow, load-independent)",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument(
        "--json",
        type=Path,
        default=RESULTS,
        help=f"results file (default {RESULTS.relative_to(ROOT)})",
    )
    args = parser.parse_args(argv)
    n = args.n or (10_000 if args.quick else 100_000)
    rounds = args.rounds or (2 if args.quick else 7)
    scopes = args.scopes or (5_000 if args.quick else 50_000)
    import_samples = args.import_samples or (5 if args.quick else 40)

    try:
        pythons = {"ours": sys.executable, "original": original_python()}
        installs = {role: describe(python) for role, python in pythons.items()}
    except CommandFailed as exc:
        print(f"error: cannot set up the comparison: {exc}", file=sys.stderr)
        return 2
    if (
        installs["ours"]["distribution"] != "airlock-core"
        or installs["original"]["distribution"] != "airlock-py"
    ):
        print(f"error: wrong libraries under test: {installs}", file=sys.stderr)
        return 2

    samples: dict[str, list[dict[str, float]]] = {label: [] for label in VARIANTS}
    labels = list(VARIANTS)
    for round_number in range(rounds):
        shift = round_number % len(labels)
        for label in labels[shift:] + labels[:shift]:
            role, library = VARIANTS[label]
            samples[label].append(sample(pythons[role], library, n, scopes))
        print(f"round {round_number + 1}/{rounds} done", file=sys.stderr)
    medians = {
        label: {key: statistics.median(s[key] for s in runs) for key in runs[0]}
        for label, runs in samples.items()
    }
    import_ms = import_times(pythons, import_samples)
    loaded = {role: modules_loaded_by_import(python) for role, python in pythons.items()}
    ours, original = medians["ours"], medians["original"]
    met = {
        **{key: ours[key] <= limit * original[key] for key, limit in RATIO_BUDGET.items()},
        "bytes_per_intent": ours["bytes_per_intent"] <= BYTES_BUDGET,
        "import_ms": import_ms["ours"] < IMPORT_MS_BUDGET,
        "import_without_pluggy": not loaded["ours"]["pluggy"]
        and not loaded["ours"]["entry_points"],
    }
    results = {
        "parameters": {
            "n": n,
            "rounds": rounds,
            "scopes": scopes,
            "import_samples": import_samples,
        },
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "installs": installs,
        "medians": medians,
        "samples": samples,
        "import_ms": import_ms,
        "import_loads": loaded,
        "targets": TARGETS,
        "met": met,
    }
    print(
        f"\nairlock core benchmark: N = {n:,} intents, {scopes:,} one-intent scopes,"
        f" median of {rounds} alternating rounds; Python {platform.python_version()}\n"
    )
    print(table(results))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nresults: {args.json}")
    if args.instructions:
        counts = instructions(pythons, intents=min(n, 20_000), scopes=min(scopes, 5_000))
        results["instructions"] = counts
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print("\nCPU instructions per operation (callgrind; independent of machine load):\n")
        print(instructions_table(counts))
    if args.profile:
        print("\nWhere ours spends its time (cProfile, sorted by own time):\n")
        print(
            output(
                [sys.executable, str(WORKER), "profile", str(n), str(scopes)],
                AIRLOCK_DISABLE_PLUGIN_AUTOLOAD="1",
            )
        )
    if args.check and not all(met.values()):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
