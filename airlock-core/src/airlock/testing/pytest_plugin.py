"""The pytest side of ``airlock.testing``: the ``airlock_capture`` fixture and its marker.

Loaded by pytest through the ``airlock.testing`` plugin (an entry point, or
``pytest_plugins = ["airlock.testing"]``); nothing else imports it.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

import airlock
from airlock.testing import Capture

MARKER = "airlock"
MARKER_OPTIONS = ("policy", "executor")

_CALL_REPORT = pytest.StashKey[pytest.TestReport]()


def pytest_configure(config: pytest.Config) -> None:
    """Declare the marker, so ``--strict-markers`` accepts it."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(policy=None, executor=None): the policy and executor of the"
        " airlock_capture fixture's scope (default policy: DropAll)",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember how the test body ended, for tests that use ``airlock_capture``."""
    report = yield
    if report.when == "call" and "airlock_capture" in getattr(item, "fixturenames", ()):
        item.stash[_CALL_REPORT] = report
    return report


@pytest.fixture
def airlock_capture(request: pytest.FixtureRequest) -> Generator[Capture, None, None]:
    """Run the test inside a capture scope and yield the ``Capture``.

    The policy is ``DropAll`` (nothing escapes) unless the closest
    ``@pytest.mark.airlock(policy=..., executor=...)`` says otherwise. After
    a passing test the scope flushes; after a failing one it discards.
    """
    captured = Capture(**_marker_options(request.node))
    captured.__enter__()
    yield captured
    report = request.node.stash.get(_CALL_REPORT, None)
    captured.finish(flush=report is not None and report.passed)


def _marker_options(node: Any) -> dict[str, Any]:
    marker = node.get_closest_marker(MARKER)
    if marker is None:
        return {}
    unknown = sorted(set(marker.kwargs) - set(MARKER_OPTIONS))
    if marker.args or unknown:
        raise airlock.UsageError(
            f"@pytest.mark.{MARKER} takes the keyword arguments policy= and executor=, e.g."
            f" @pytest.mark.{MARKER}(policy=airlock.AllowAll()); got"
            f" args={marker.args!r}, unknown={unknown!r}."
        )
    return dict(marker.kwargs)


__all__ = ["airlock_capture"]
