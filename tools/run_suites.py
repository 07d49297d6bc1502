"""Run test suites side by side, each in its own pytest process, and report them in turn.

    python tools/run_suites.py [--jobs N] [--timeout SECONDS] SUITE [SUITE ...]

Why side by side: most of a suite's time is spent waiting on real brokers,
databases and worker processes, so running a few suites at once shortens the
whole run without making any suite share state with another (each suite has
its own Redis databases, queues and test databases; see CONTRIBUTING.md).

Each suite's output is held until it ends, then printed whole, so the log
reads suite by suite. A suite that runs past ``--timeout`` is killed (with its
worker processes) and counts as failed. The exit status is 1 when any suite
failed, and the last lines name them.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import IO


@dataclass
class Run:
    """One suite's pytest process and what it printed."""

    suite: str
    process: subprocess.Popen[bytes]
    output: IO[bytes]
    started: float = field(default_factory=time.monotonic)
    timed_out: bool = False

    def elapsed(self) -> float:
        """Seconds since the suite started."""
        return time.monotonic() - self.started


def start(suite: str, pytest_args: list[str]) -> Run:
    """Start ``pytest suite`` in a new process group (so a kill reaches its workers)."""
    output = tempfile.TemporaryFile()  # noqa: SIM115 - finish() closes it once the suite ends
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", suite, *pytest_args],
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return Run(suite, process, output)


def finish(run: Run) -> bool:
    """Print the suite's output and its outcome; True if it passed."""
    run.output.seek(0)
    sys.stdout.write(f"\n===== {run.suite} =====\n")
    sys.stdout.flush()
    sys.stdout.buffer.write(run.output.read())
    run.output.close()
    if run.timed_out:
        outcome = "killed: ran past the timeout"
    elif run.process.returncode == 0:
        outcome = "passed"
    else:
        outcome = f"failed (exit {run.process.returncode})"
    sys.stdout.write(f"===== {run.suite}: {outcome} in {run.elapsed():.0f} s =====\n")
    sys.stdout.flush()
    return run.process.returncode == 0 and not run.timed_out


def main(argv: list[str]) -> int:
    """Run the suites ``argv`` names; 0 when all passed, else 1."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=3, help="suites at once (default: 3)")
    parser.add_argument(
        "--timeout", type=float, default=1200, help="seconds one suite may take (default: 1200)"
    )
    parser.add_argument("suites", nargs="+")
    args, pytest_args = parser.parse_known_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs {args.jobs}: give at least 1")
    waiting = list(args.suites)
    running: list[Run] = []
    failed: list[str] = []
    while waiting or running:
        while waiting and len(running) < args.jobs:
            running.append(start(waiting.pop(0), pytest_args))
        time.sleep(0.2)
        for run in list(running):
            if run.process.poll() is None and run.elapsed() > args.timeout:
                run.timed_out = True
                os.killpg(run.process.pid, signal.SIGKILL)
                run.process.wait()
            if run.process.poll() is not None:
                running.remove(run)
                if not finish(run):
                    failed.append(run.suite)
    if failed:
        print(f"\nfailing suites: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
