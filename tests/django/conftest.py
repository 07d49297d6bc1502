"""Django suite: a real project (tests/django/airtest) on PostgreSQL and SQLite."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "airtest.settings")
# Celery publishes to Redis database 5 (this suite's own), from the first use on.
_REDIS = os.environ.get("AIRLOCK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("AIRTEST_BROKER_URL", _REDIS.rsplit("/", 1)[0] + "/5")


def pytest_configure(config: pytest.Config) -> None:
    import django

    django.setup()


@pytest.fixture(scope="session", autouse=True)
def _postgres_is_up(postgres_url: str) -> None:
    """Fail loudly (shared message) when PostgreSQL does not answer."""


@pytest.fixture(autouse=True)
def fresh_effects() -> Iterator[list[tuple[str, int, bool]]]:
    from airtest import effects

    effects.SENT.clear()
    effects.CALLS.clear()
    effects.BROKEN[0] = False
    yield effects.SENT
    effects.SENT.clear()
    effects.CALLS.clear()
    import airlock

    assert airlock.get_current_scope() is None, "a test left a scope open"
