"""Every example of docs/integrations/rq.md runs here, against Redis and a real worker."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from conftest import ROOT
from redis import Redis
from rq import Queue
from rq.job import Job

EXAMPLES = ROOT / "docs" / "examples" / "rq"
PAGE = ROOT / "docs" / "integrations" / "rq.md"


@pytest.fixture
def examples_on_path() -> Iterator[None]:
    sys.path.insert(0, str(EXAMPLES))
    yield
    sys.path.remove(str(EXAMPLES))
    for name in ("tasks", "orders", "testing"):
        sys.modules.pop(name, None)


def inline_example(heading: str) -> str:
    """The first Python block of the page's section ``heading`` (an example shown inline)."""
    prose = r"(?:(?!\n#+ |```).)*"  # the section's text before its first code block
    found = re.search(rf"\n### {heading}\n{prose}```python\n(.*?)```", PAGE.read_text(), re.S)
    assert found, f"no Python example under {heading!r}"
    return found[1]


def test_every_snippet_exists_and_every_example_is_shown() -> None:
    shown = set(re.findall(r'--8<-- "(docs/examples/rq/[^"]+)"', PAGE.read_text()))
    on_disk = {str(p.relative_to(ROOT)) for p in EXAMPLES.glob("*.py")}
    assert shown == on_disk


@pytest.mark.redis
def test_publish_example(connection: Redis, rq_url: str, run_worker) -> None:
    subprocess.run(
        [sys.executable, "publish.py"],
        cwd=EXAMPLES,
        env={**os.environ, "REDIS_URL": rq_url},
        check=True,
        timeout=60,
    )
    [warehouse_id] = Queue("rq_warehouse", connection=connection).job_ids
    assert Job.fetch(warehouse_id, connection=connection).timeout == 30
    [email_id] = Queue("rq_default", connection=connection).job_ids
    assert Job.fetch(email_id, connection=connection).retries_left == 3
    run_worker("rq_warehouse", "rq_default", path=EXAMPLES)
    assert sorted(connection.lrange("rq_docs:log", 0, -1)) == [
        b"email to user 42",
        b"warehouse notified of order 1",
    ]


@pytest.mark.redis
def test_worker_scoping_example(connection: Redis, run_worker) -> None:
    orders = Queue("rq_orders", connection=connection)
    orders.enqueue("orders.process_order", 1)
    orders.enqueue("orders.process_order", -1)
    run_worker(
        "rq_orders",
        "rq_warehouse",
        job_class="airlock_rq.AirlockJob",
        env={"AIRLOCK_EXECUTOR": "rq"},
        path=EXAMPLES,
    )
    assert connection.lrange("rq_docs:log", 0, -1) == [b"warehouse notified of order 1"]


def test_testing_example(examples_on_path: None) -> None:
    importlib.import_module("testing").test_register_sends_a_welcome_email()


@pytest.mark.redis
def test_shop_job_example(connection: Redis, run_worker) -> None:
    Queue("rq_orders", connection=connection).enqueue("orders.process_order", 2)
    run_worker("rq_orders", "rq_warehouse", job_class="shop_job.ShopJob", path=EXAMPLES)
    assert connection.lrange("rq_docs:log", 0, -1) == [b"warehouse notified of order 2"]


@pytest.mark.redis
def test_enrich_example_runs_once(connection: Redis, run_worker) -> None:
    Queue("rq_users", connection=connection).enqueue("enrich.enrich_user", 7)
    run_worker(
        "rq_users",
        job_class="airlock_rq.AirlockJob",
        env={"AIRLOCK_EXECUTOR": "rq"},
        path=EXAMPLES,
    )
    assert connection.lrange("rq_docs:log", 0, -1) == [
        b"audit: enriching user 7",
        b"audit: saved user 7",
    ]


@pytest.mark.redis
def test_job_id_example(connection: Redis, examples_on_path: None, run_worker) -> None:
    import airlock_rq

    airlock_rq.configure(connection=connection)
    exec(compile(inline_example("Choosing the job id"), str(PAGE), "exec"), {})
    assert Queue("rq_default", connection=connection).job_ids == ["welcome-42"]
    run_worker("rq_default", path=EXAMPLES)
    assert Job.fetch("welcome-42", connection=connection).is_finished
    assert connection.lrange("rq_docs:log", 0, -1) == [b"email to user 42"]


@pytest.mark.redis
def test_scheduling_example(connection: Redis, examples_on_path: None) -> None:
    import airlock_rq

    airlock_rq.configure(connection=connection)
    before = datetime.now(timezone.utc).replace(microsecond=0)
    exec(compile(inline_example("Scheduling a job"), str(PAGE), "exec"), {})
    after = datetime.now(timezone.utc)
    queue = Queue("rq_default", connection=connection)
    assert queue.count == 0
    [job_id] = queue.scheduled_job_registry.get_job_ids()
    due = queue.scheduled_job_registry.get_scheduled_time(job_id)
    assert before + timedelta(minutes=10) <= due <= after + timedelta(minutes=10)
    job = Job.fetch(job_id, connection=connection)
    assert (job.func_name, job.args) == ("tasks.send_email", (42,))
