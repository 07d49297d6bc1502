"""The benchmark's sync task: counts its calls and does nothing else."""

#: Calls since the benchmark pushed a fresh counter.
CALLS: list[int] = [0]


def noop(*args: object) -> None:
    """Count the call."""
    CALLS[-1] += 1
