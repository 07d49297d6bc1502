"""What airlock-opentelemetry costs: not installed, installed without an SDK, installed with one.

Each setting runs in its own process (OpenTelemetry's global providers are set
once per process), and the settings alternate over --rounds rounds, the order
rotating each round; the table shows the median of the rounds, each round's
figure being the best of --repeat runs in that process. Measured, per setting:

- per intent: one scope, N ``enqueue()`` calls, the flush to an executor that
  sends nothing (what airlock and the plugin add, not a broker);
- one-intent scope: enter, one ``enqueue()``, exit and flush;
- ``running_task``: what a worker integration's call around each task costs.

With the SDK, the work runs under an active span (each intent carries a
traceparent) and spans go to a processor that drops them: an exporter's own
cost is the application's choice. Table on stdout, JSON in
bench/results/opentelemetry.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "results" / "opentelemetry.json"
SETTINGS = ["absent", "no-sdk", "sdk"]
METRICS = {
    "per_intent_ns": "per intent: enqueue + flush",
    "one_intent_scope_ns": "one-intent scope round trip",
    "running_task_ns": "running_task around a task",
}


def measure(setting: str, n: int, repeat: int) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, str(HERE / "worker.py"), setting, str(n), str(repeat)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20_000, help="intents per flush")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    rounds: dict[str, list[dict[str, object]]] = {s: [] for s in SETTINGS}
    for number in range(args.rounds):
        order = SETTINGS[number % 3 :] + SETTINGS[: number % 3]
        for setting in order:
            rounds[setting].append(measure(setting, args.n, args.repeat))
    medians = {
        setting: {m: statistics.median(float(r[m]) for r in found) for m in METRICS}  # type: ignore[arg-type]
        for setting, found in rounds.items()
    }
    headers = {setting: found[0]["headers"] for setting, found in rounds.items()}

    print(f"airlock-opentelemetry, N = {args.n}, median of {args.rounds} rounds")
    print(f"{'':34} {'not installed':>14} {'no SDK':>14} {'SDK':>14} {'SDK / absent':>13}")
    for metric, label in METRICS.items():
        row = [medians[s][metric] for s in SETTINGS]
        print(
            f"{label:34} {row[0]:>11.0f} ns {row[1]:>11.0f} ns {row[2]:>11.0f} ns"
            f" {row[2] / row[0]:>12.1f}x"
        )
    print(f"headers an intent carries: {headers}")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "opentelemetry",
                "python": platform.python_version(),
                "n": args.n,
                "rounds": args.rounds,
                "repeat": args.repeat,
                "medians_ns": medians,
                "headers": headers,
                "rounds_ns": rounds,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"JSON: {RESULTS}")


if __name__ == "__main__":
    main()
