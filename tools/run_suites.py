"""Run test suites side by side, each in its own pytest process, and report them in turn.

    python tools/run_suites.py [--jobs N] [--timeout SECONDS] [--shards SUITE=N] SUITE [SUITE ...]

Why side by side: most of a suite's time is spent waiting on real brokers,
databases and worker processes, so running a few suites at once shortens the
whole run without making any suite share state with another (each suite has
its own Redis databases, queues and test databases; see CONTRIBUTING.md).

A long suite can be cut in shards (``--shards tests/django=2``): its test
files are dealt round-robin to N pytest processes (tests/conftest.py keeps a
shard's own files). A shard runs as the stack ``<stack>_shard<i>of<N>``, so
whatever a suite names after its stack (test databases, queues) stays apart.

Each suite's output is held until it ends, then printed whole, so the log
reads suite by suite. A suite that runs past ``--timeout`` is killed (with its
worker processes) and counts as failed. The exit status is 1 when any suite
failed, and the last lines name them.
"""

from __future__ import annotations

import argparse
import contextlib
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

    label: str
    process: subprocess.Popen[bytes]
    output: IO[bytes]
    started: float = field(default_factory=time.monotonic)
    timed_out: bool = False

    def elapsed(self) -> float:
        """Seconds since the suite started."""
        return time.monotonic() - self.started


@dataclass(frozen=True)
class Job:
    """A suite, or one shard of it."""

    suite: str
    shard: int = 1
    shards: int = 1

    @property
    def label(self) -> str:
        """How the log names it: ``tests/django`` or ``tests/django [1/2]``."""
        return self.suite if self.shards == 1 else f"{self.suite} [{self.shard}/{self.shards}]"

    def env(self) -> dict[str, str]:
        """The environment of its pytest process."""
        env = dict(os.environ)
        if self.shards > 1:
            stack = env.get("AIRLOCK_TEST_STACK", "local")
            env["AIRLOCK_TEST_STACK"] = f"{stack}_shard{self.shard}of{self.shards}"
            env["AIRLOCK_TEST_SHARD"] = f"{self.shard}/{self.shards}"
        return env


def start(job: Job, pytest_args: list[str]) -> Run:
    """Start ``pytest suite`` in a new process group (so a kill reaches its workers)."""
    output = tempfile.TemporaryFile()  # noqa: SIM115 - finish() closes it once the suite ends
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", job.suite, *pytest_args],
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=job.env(),
    )
    return Run(job.label, process, output)


def kill(run: Run) -> None:
    """Kill a suite's pytest process and every worker it started (its process group)."""
    with contextlib.suppress(ProcessLookupError):  # the whole group had already exited
        os.killpg(run.process.pid, signal.SIGKILL)
    run.process.wait()


def finish(run: Run) -> bool:
    """Print the suite's output and its outcome; True if it passed."""
    run.output.seek(0)
    sys.stdout.write(f"\n===== {run.label} =====\n")
    sys.stdout.flush()
    sys.stdout.buffer.write(run.output.read())
    run.output.close()
    if run.timed_out:
        outcome = "killed: ran past the timeout"
    elif run.process.returncode == 0:
        outcome = "passed"
    else:
        outcome = f"failed (exit {run.process.returncode})"
    sys.stdout.write(f"===== {run.label}: {outcome} in {run.elapsed():.0f} s =====\n")
    sys.stdout.flush()
    return run.process.returncode == 0 and not run.timed_out


def main(argv: list[str]) -> int:
    """Run the suites ``argv`` names; 0 when all passed, else 1."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=3, help="suites at once (default: 3)")
    parser.add_argument(
        "--timeout", type=float, default=1200, help="seconds one suite may take (default: 1200)"
    )
    parser.add_argument(
        "--shards",
        action="append",
        default=[],
        metavar="SUITE=N",
        help="run SUITE as N pytest processes (repeatable)",
    )
    parser.add_argument("suites", nargs="+")
    args, pytest_args = parser.parse_known_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs {args.jobs}: give at least 1")
    shards: dict[str, int] = {}
    for given in args.shards:
        suite, _, count = given.partition("=")
        if not count.isdigit() or int(count) < 1:
            parser.error(f"--shards {given}: write SUITE=N with N a whole number of at least 1")
        shards[suite] = int(count)
    waiting = [
        Job(suite, shard, shards.get(suite, 1))
        for suite in args.suites
        for shard in range(1, shards.get(suite, 1) + 1)
    ]
    running: list[Run] = []
    failed: list[str] = []
    # Stopped (Ctrl-C, or SIGTERM from nox or CI): take the suites' process groups along.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        while waiting or running:
            while waiting and len(running) < args.jobs:
                running.append(start(waiting.pop(0), pytest_args))
            time.sleep(0.2)
            for run in list(running):
                if run.process.poll() is None and run.elapsed() > args.timeout:
                    run.timed_out = True
                    kill(run)
                if run.process.poll() is not None:
                    running.remove(run)
                    if not finish(run):
                        failed.append(run.label)
    finally:
        for run in running:
            kill(run)
    if failed:
        print(f"\nfailing suites: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
