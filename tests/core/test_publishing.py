"""``airlock.plugins.publishing``: what executors call around each message they send."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

import airlock
from airlock.plugins import publishing, register, unregister


class Listener:
    def __init__(self) -> None:
        self.heard: list[tuple[str, object, object]] = []

    @airlock.hookimpl
    def airlock_publish_started(self, intent: airlock.Intent) -> None:
        self.heard.append(("started", intent, None))

    @airlock.hookimpl
    def airlock_publish_finished(self, intent: airlock.Intent, error: BaseException | None) -> None:
        self.heard.append(("finished", intent, error))


@pytest.fixture
def listener() -> Iterator[Listener]:
    found = Listener()
    register(found, name="publish-listener")
    yield found
    unregister("publish-listener")


def send(n: int) -> None:
    """A task."""


def test_without_a_listener_it_is_one_shared_no_op() -> None:
    code = (
        "import airlock\n"
        "from airlock.plugins import load, publishing\n"
        "load()\n"
        "a, b = airlock.Intent(print, (1,)), airlock.Intent(print, (2,))\n"
        "with publishing(a):\n"
        "    pass\n"
        "print(publishing(a) is publishing(b))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "AIRLOCK_DISABLE_PLUGIN_AUTOLOAD": "1"},  # core's plugins only
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout == "True\n"


def test_the_hooks_hear_the_send_and_its_error(listener: Listener) -> None:
    intent = airlock.Intent(send, (1,))
    with publishing(intent):
        pass
    refused = ConnectionError("broker down")
    with pytest.raises(ConnectionError), publishing(intent):
        raise refused
    assert listener.heard == [
        ("started", intent, None),
        ("finished", intent, None),
        ("started", intent, None),
        ("finished", intent, refused),
    ]
