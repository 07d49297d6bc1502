"""Fixtures every suite shares: the real services, on loopback only.

A test that needs a service fails (never skips) when the service does not
answer, with the environment variable that points at it in the message.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

import airlock

SERVICES = {
    "redis": ("AIRLOCK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
    "amqp": ("AIRLOCK_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"),
    "postgres": ("AIRLOCK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
}


def service_url(name: str) -> str:
    """The URL of a service, from its environment variable; loopback or the test fails."""
    variable, default = SERVICES[name]
    url = os.environ.get(variable, default)
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        pytest.fail(f"{variable}={url!r}: tests talk to loopback services only.")
    try:
        with socket.create_connection((host, parts.port), timeout=3):
            pass
    except OSError as exc:
        pytest.fail(
            f"{name} is not reachable at {url} ({exc}). Start it (.ci/services.sh does)"
            f" or point {variable} at a running one."
        )
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    """Base Redis URL (database 0); suites pick their own database number."""
    return service_url("redis")


@pytest.fixture(scope="session")
def amqp_url() -> str:
    """RabbitMQ URL."""
    return service_url("amqp")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """PostgreSQL URL (database ``test``)."""
    return service_url("postgres")


@pytest.fixture(scope="session")
def listed_plugins() -> dict[str, dict[str, Any]]:
    """What ``airlock plugins --json`` prints in a fresh interpreter, by plugin name."""
    done = subprocess.run(
        [sys.executable, "-m", "airlock", "plugins", "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return {plugin["name"]: plugin for plugin in json.loads(done.stdout)}


@pytest.fixture
def fresh_airlock() -> Iterator[None]:
    """airlock's defaults before and after the test, and no scope left open.

    Suites that configure airlock per test request it from an autouse fixture;
    the Django suite does not, because its app applies ``settings.AIRLOCK``.
    """
    airlock.reset_configuration()
    yield
    airlock.reset_configuration()
    assert airlock.get_current_scope() is None, "a test left a scope open"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep only this shard's test files when tools/run_suites.py cut the suite in shards.

    ``AIRLOCK_TEST_SHARD=i/n``: the suite's test files, in order, are dealt
    round-robin to n shards; this process runs the i-th.
    """
    given = os.environ.get("AIRLOCK_TEST_SHARD")
    if not given:
        return
    shard, _, count = given.partition("/")
    files = sorted({item.path for item in items})
    mine = set(files[int(shard) - 1 :: int(count)])
    left = [item for item in items if item.path not in mine]
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = [item for item in items if item.path in mine]
