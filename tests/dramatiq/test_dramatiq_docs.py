"""Every example of docs/integrations/dramatiq.md runs here, with a real worker on Redis."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import dramatiq
import pytest
from conftest import ROOT, WAIT, _start_worker, _stop_worker
from redis import Redis

pytestmark = pytest.mark.slow

EXAMPLES = ROOT / "docs" / "examples" / "dramatiq"
PAGE = ROOT / "docs" / "integrations" / "dramatiq.md"
LOG = "dramatiq_docs:log"
#: The example modules that declare actors, imported by the worker next to app.py.
EXTRA_MODULES = ("enrich", "scoped_actor", "async_actor")


def inline_example(heading: str) -> str:
    """The first Python block of the page's section ``heading`` (an example shown inline)."""
    prose = r"(?:(?!\n#+ |```).)*"  # the section's text before its first code block
    found = re.search(rf"\n### {heading}\n{prose}```python\n(.*?)```", PAGE.read_text(), re.S)
    assert found, f"no Python example under {heading!r}"
    return found[1]


def test_every_snippet_exists_and_every_example_is_shown() -> None:
    shown = set(re.findall(r'--8<-- "(docs/examples/dramatiq/[^"]+)"', PAGE.read_text()))
    on_disk = {str(p.relative_to(ROOT)) for p in EXAMPLES.glob("*.py")}
    assert shown == on_disk


@pytest.fixture(scope="module")
def docs_app(dq_redis_url: str, results_db: Redis) -> Iterator[dict[str, ModuleType]]:
    os.environ["REDIS_URL"] = dq_redis_url
    sys.path.insert(0, str(EXAMPLES))
    modules = {name: importlib.import_module(name) for name in ("app", *EXTRA_MODULES)}
    for queue in modules["app"].broker.get_declared_queues():
        modules["app"].broker.flush(queue)
    command_env = {**os.environ, "PYTHONPATH": str(EXAMPLES)}
    process = _start_worker("app", command_env, extra=list(EXTRA_MODULES), path=EXAMPLES)
    try:
        yield modules
    finally:
        _stop_worker(process)
        sys.path.remove(str(EXAMPLES))
        for name in ("app", *EXTRA_MODULES, "testing"):
            sys.modules.pop(name, None)


@pytest.fixture
def log(results_db: Redis) -> Redis:
    results_db.delete(LOG)
    return results_db


def wait_log(db: Redis, line: str) -> list[str]:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        lines = [v.decode() for v in db.lrange(LOG, 0, -1)]
        if line in lines:
            return lines
        time.sleep(0.05)
    pytest.fail(f"the worker never logged {line!r}")


def test_publish_example(docs_app: dict[str, ModuleType], log: Redis, dq_redis_url: str) -> None:
    subprocess.run(
        [sys.executable, "publish.py"],
        cwd=EXAMPLES,
        env={**os.environ, "REDIS_URL": dq_redis_url},
        check=True,
        timeout=60,
    )
    wait_log(log, "warehouse notified of order 1")
    wait_log(log, "email to user 42")


def _run_example(name: str, redis_url: str) -> str:
    """Run docs/examples/dramatiq/<name> as a script, with no executor configured."""
    env = {k: v for k, v in os.environ.items() if k != "AIRLOCK_EXECUTOR"}
    done = subprocess.run(
        [sys.executable, name],
        cwd=EXAMPLES,
        env={**env, "REDIS_URL": redis_url},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def test_routing_example(docs_app: dict[str, ModuleType], log: Redis, dq_redis_url: str) -> None:
    output = _run_example("routing.py", dq_redis_url)
    assert output == "signup 42 remembered in this process\n"
    wait_log(log, "email to user 42")


def test_arguments_example(docs_app: dict[str, ModuleType], log: Redis, dq_redis_url: str) -> None:
    output = _run_example("arguments.py", dq_redis_url)
    assert "send_email() got an unexpected keyword argument 'usr_id'" in output
    wait_log(log, "email to user 42")
    docs_app["app"].broker.join("dramatiq_emails", timeout=int(WAIT * 1000))
    assert [v.decode() for v in log.lrange(LOG, 0, -1)] == ["email to user 42"]


def test_worker_scoping_example(docs_app: dict[str, ModuleType], log: Redis) -> None:
    app = docs_app["app"]
    app.process_order.send(-1)
    app.process_order.send(1)
    wait_log(log, "warehouse notified of order 1")
    app.broker.join("dramatiq_orders", timeout=int(WAIT * 1000))
    assert "warehouse notified of order -1" not in [v.decode() for v in log.lrange(LOG, 0, -1)]


def test_enrich_example_runs_once(docs_app: dict[str, ModuleType], log: Redis) -> None:
    docs_app["enrich"].enrich_user.send(7)
    wait_log(log, "audit: saved user 7")
    docs_app["app"].broker.join("dramatiq_users", timeout=int(WAIT * 1000))
    assert [v.decode() for v in log.lrange(LOG, 0, -1)] == [
        "enriching user 7",
        "audit: saved user 7",
    ]


def test_scoped_actor_example(docs_app: dict[str, ModuleType], log: Redis) -> None:
    docs_app["scoped_actor"].cancel_order.send(3)
    wait_log(log, "warehouse notified of order -3")


def test_async_actor_example(docs_app: dict[str, ModuleType], log: Redis) -> None:
    docs_app["async_actor"].ship_order.send(-5)
    docs_app["async_actor"].ship_order.send(5)
    wait_log(log, "warehouse notified of order 5")
    docs_app["app"].broker.join("dramatiq_orders", timeout=int(WAIT * 1000))
    assert "warehouse notified of order -5" not in [v.decode() for v in log.lrange(LOG, 0, -1)]


def test_testing_example(docs_app: dict[str, ModuleType]) -> None:
    importlib.import_module("testing").test_register_sends_a_welcome_email()


class SentIds(dramatiq.Middleware):
    """Notes the id of each message the test process enqueues.

    That the worker sees the id given is tested on both brokers in
    test_dramatiq_message_id.py; here the example runs as written.
    """

    def __init__(self) -> None:
        self.ids: list[str] = []

    def after_enqueue(self, broker: dramatiq.Broker, message: Any, delay: Any) -> None:
        self.ids.append(message.message_id)


def test_message_id_example(docs_app: dict[str, ModuleType], log: Redis) -> None:
    broker = docs_app["app"].broker
    sent = SentIds()
    broker.add_middleware(sent)
    try:
        exec(compile(inline_example("Choosing the message id"), str(PAGE), "exec"), {})
    finally:
        broker.middleware.remove(sent)
    assert sent.ids == ["welcome-42"]
    wait_log(log, "email to user 42")
