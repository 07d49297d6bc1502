"""Every example of docs/integrations/huey.md runs here."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from conftest import ROOT

EXAMPLES = ROOT / "docs" / "examples" / "huey"
PAGE = ROOT / "docs" / "integrations" / "huey.md"


@pytest.fixture
def examples(huey_redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The examples' ``tasks`` module, on Redis database 8, its queue empty before and after."""
    monkeypatch.setenv("REDIS_URL", huey_redis_url)
    sys.path.insert(0, str(EXAMPLES))
    tasks = importlib.import_module("tasks")
    tasks.huey.flush()
    tasks.SENT.clear()
    yield tasks
    tasks.huey.immediate = False
    tasks.huey.flush()
    sys.path.remove(str(EXAMPLES))
    for name in ("tasks", "testing"):
        sys.modules.pop(name, None)


def test_every_snippet_exists_and_every_example_is_shown() -> None:
    shown = set(re.findall(r'--8<-- "(docs/examples/huey/[^"]+)"', PAGE.read_text()))
    on_disk = {str(p.relative_to(ROOT)) for p in EXAMPLES.glob("*.py")}
    assert shown == on_disk


@pytest.mark.redis
def test_publish_example(examples: Any, huey_redis_url: str) -> None:
    before = datetime.now(timezone.utc).replace(tzinfo=None)
    subprocess.run(
        [sys.executable, "publish.py"],
        cwd=EXAMPLES,
        env={**os.environ, "REDIS_URL": huey_redis_url},
        check=True,
        timeout=60,
    )
    after = datetime.now(timezone.utc).replace(tzinfo=None)
    warehouse, email = examples.huey.pending()
    assert (warehouse.name, warehouse.args) == ("notify_warehouse", (1,))
    assert before + timedelta(minutes=5) <= warehouse.eta <= after + timedelta(minutes=5)
    assert (email.name, email.args, email.id, email.retries) == (
        "send_email",
        (42,),
        "welcome-42",
        2,
    )


@pytest.mark.redis
def test_worker_scoping_example(examples: Any) -> None:
    """Huey's immediate mode runs tasks through the same execute path as a consumer."""
    examples.huey.immediate = True
    examples.process_order(1)
    examples.process_order(-1)  # raises in the task: Huey records the error
    assert examples.SENT == ["warehouse notified of order 1", "email to user 10"]


def test_testing_example(examples: Any) -> None:
    importlib.import_module("testing").test_register_sends_a_welcome_email()
