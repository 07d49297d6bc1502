"""Core suite: every test starts from airlock's defaults and leaves them so."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import airlock


@pytest.fixture(autouse=True)
def fresh_airlock() -> Iterator[None]:
    airlock.reset_configuration()
    yield
    airlock.reset_configuration()
    assert airlock.get_current_scope() is None, "a test left a scope open"
