"""The demo shop's script, end to end: embedded defaults, then through a real Celery worker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[2] / "examples" / "shop" / "run_demo.py"


def run_demo(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    environment.pop("AIRLOCK_DEMO_BROKER_URL", None)
    return subprocess.run(
        [sys.executable, str(DEMO)],
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_demo_on_embedded_defaults() -> None:
    result = run_demo()
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "executor sync; effects run in this process (sync executor)" in out
    assert " at 0x" not in out  # names, not reprs
    checkout, declined, backfill, admin, crash = out.split("\n== ")[1:]
    assert checkout.index("COMMIT") < checkout.index("dispatched notify_warehouse")
    assert "ran: send_shipping_email(order #1) in this process, order was shipped" in checkout
    assert "402" in declined
    assert "ran: nothing" in declined
    assert "discarded  notify_warehouse(order_id=2)" in declined
    assert " dispatched " not in declined
    assert "400 effects buffered, none dispatched (dry run)" in backfill
    assert "ran: nothing" in backfill
    assert "dropped    send_confirmation(order_id=1) by BlockTasks" in admin
    assert "ran: notify_warehouse(order #1)" in admin
    django_crash, outbox_crash = crash.split("(crash-outbox) committed")
    assert "(crash-django) committed; the process died by signal 9 (SIGKILL)" in django_crash
    assert "ran: nothing" in django_crash
    assert "the process died by signal 9 (SIGKILL)" in outbox_crash
    assert "relayed 1 batch(es): 2 claimed, 2 delivered" in outbox_crash
    assert "ran: send_confirmation(order #202) in this process" in outbox_crash
    assert "Everything escaped exactly when it should" in out


@pytest.mark.slow
@pytest.mark.redis
def test_demo_through_a_real_celery_worker(redis_url: str) -> None:
    result = run_demo(
        AIRLOCK_DEMO_BROKER_URL=redis_url.rsplit("/", 1)[0] + "/5",
        SHOP_CELERY_QUEUE=f"django_shop_demo_{os.environ.get('AIRLOCK_TEST_STACK', 'local')}",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "executor airlock.integrations.executors.celery.celery_executor;"
        " effects run in a Celery worker" in result.stdout
    )
    assert "via CeleryExecutor" in result.stdout
    assert " at 0x" not in result.stdout
    assert "ran: send_shipping_email(order #1) in worker pid" in result.stdout
    assert "ran: send_confirmation(order #202) in worker pid" in result.stdout
    assert "Everything escaped exactly when it should" in result.stdout
