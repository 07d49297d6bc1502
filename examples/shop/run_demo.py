"""The demo shop, end to end: what airlock lets out of a Django project, and when.

    python examples/shop/run_demo.py

On embedded defaults (a fresh SQLite file, the in-process ``sync`` executor) it
needs no services. With ``AIRLOCK_DEMO_BROKER_URL`` set to a Redis URL, the same
flow goes through Celery: the script starts a worker for the run and stops it.

Five scenes: a checkout that commits, one whose payment fails, a bulk backfill
under ``DropAll`` (``--dry-run``), the admin path under ``BlockTasks``, and a
process killed between COMMIT and publish (``DjangoScope`` loses the effects, the
``outbox`` scope keeps them for the relay). Each
prints the timeline (buffered, committed, dispatched, dropped, discarded) and
the effects that actually ran. Exit status 1 if any effect is not as expected.
"""

from __future__ import annotations

import io
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import airlock

HERE = Path(__file__).resolve().parent
WAIT_SECONDS = 60


class Timeline:
    """airlock lifecycle hooks (and the shop's logger) printed as one timeline."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.quiet = False
        self.quieted = 0

    def scene(self, title: str) -> None:
        print(f"\n== {title}")
        self.start = time.perf_counter()

    def say(self, what: str, detail: str) -> None:
        if self.quiet and what in ("buffered", "dropped"):
            self.quieted += 1
            return
        print(f"  +{(time.perf_counter() - self.start) * 1000:6.1f} ms  {what:<10} {detail}")

    @airlock.hookimpl
    def airlock_intent_enqueued(self, scope: object, intent: object) -> None:
        self.say("buffered", describe(intent))

    @airlock.hookimpl
    def airlock_intent_dispatched(self, intent: object, executor: object) -> None:
        name = getattr(executor, "__name__", type(executor).__name__)
        self.say("dispatched", f"{describe(intent)} via {name}")

    @airlock.hookimpl
    def airlock_intent_dropped(self, intent: object, policy: object) -> None:
        self.say("dropped", f"{describe(intent)} by {policy!r}")

    @airlock.hookimpl
    def airlock_scope_discarded(self, scope: object, intents: Sequence[object]) -> None:
        self.say("discarded", ", ".join(describe(i) for i in intents))


class ShopLog(logging.Handler):
    """Routes the shop's own log lines (COMMIT, ROLLBACK) into the timeline."""

    def __init__(self, timeline: Timeline) -> None:
        super().__init__()
        self.timeline = timeline

    def emit(self, record: logging.LogRecord) -> None:
        self.timeline.say("database", record.getMessage())


def describe(intent: object) -> str:
    name = getattr(intent, "name", "?")
    args = [repr(a) for a in getattr(intent, "args", ())]
    args += [f"{k}={v!r}" for k, v in getattr(intent, "kwargs", {}).items()]
    return f"{name}({', '.join(args)})"


def setup(database: Path) -> None:
    os.environ["SHOP_DATABASE"] = str(database)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_project.settings")
    os.environ.setdefault("SHOP_CELERY_QUEUE", "django_shop_demo")
    sys.path.insert(0, str(HERE))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def start_worker(broker_url: str, log: Path) -> subprocess.Popen[bytes]:
    """A real Celery worker on the demo's own queue, sharing the SQLite file."""
    from shop_project.celery import app

    with app.connection_for_write() as connection:  # drop what an interrupted run left
        connection.default_channel.queue_purge(os.environ["SHOP_CELERY_QUEUE"])
    return subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "shop_project", "--quiet", "worker",
            "--pool=solo", "--loglevel=WARNING", "--without-heartbeat",
            "--without-gossip", "--without-mingle",
            "--queues", os.environ["SHOP_CELERY_QUEUE"],
        ],
        cwd=HERE,
        env={**os.environ, "AIRLOCK_DEMO_BROKER_URL": broker_url},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip


def effects_after(seen: int, expected: int, worker: subprocess.Popen[bytes] | None) -> list:
    """The effects recorded since ``seen``; with a worker, wait (bounded) for ``expected``."""
    from shop.models import Effect

    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        found = list(Effect.objects.order_by("pk")[seen:])
        if worker is None or len(found) >= expected:
            return found
        if worker.poll() is not None:
            raise SystemExit(f"the Celery worker exited with status {worker.returncode}")
        if time.monotonic() > deadline:
            raise SystemExit(
                f"waited {WAIT_SECONDS}s for {expected} effects from the Celery worker, got"
                f" {len(found)}; its log is in {os.environ['SHOP_WORKER_LOG']}"
            )
        time.sleep(0.1)


def main() -> int:
    broker_url = os.environ.get("AIRLOCK_DEMO_BROKER_URL", "")
    with tempfile.TemporaryDirectory(prefix="airlock-shop-") as tmp:
        setup(Path(tmp) / "shop.sqlite3")
        log = Path(tmp) / "worker.log"
        os.environ["SHOP_WORKER_LOG"] = str(log)
        worker = start_worker(broker_url, log) if broker_url else None
        try:
            return run(worker)
        finally:
            if worker is not None:
                worker.terminate()
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
                if worker.returncode not in (0, -15):
                    print(log.read_text(errors="replace")[-3000:], file=sys.stderr)


def run(worker: subprocess.Popen[bytes] | None) -> int:
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client

    timeline = Timeline()
    airlock.plugins.register(timeline, name="shop-demo-timeline")
    shop_log = logging.getLogger("shop")
    shop_log.addHandler(ShopLog(timeline))
    shop_log.setLevel(logging.INFO)
    from django.conf import settings

    executor = settings.AIRLOCK["EXECUTOR"]  # as configured: a registered name or a dotted path
    where = "a Celery worker" if worker else "this process (sync executor)"
    print(f"airlock demo shop: Django + SQLite, executor {executor}; effects run in {where}.")

    client = Client()
    failures: list[str] = []
    seen = 0

    def expect(title: str, wanted: list[tuple[str, int]]) -> None:
        nonlocal seen
        effects = effects_after(seen, len(wanted), worker)
        seen += len(effects)
        ran = [(e.task, e.order_id) for e in effects]
        for effect in effects:
            print(f"  ran: {effect.task}(order #{effect.order_id}) in {effect.ran_in},"
                  f" order was {effect.order_status}")  # fmt: skip
        if not effects:
            print("  ran: nothing")
        if ran != wanted:
            failures.append(f"{title}: expected {wanted}, ran {ran}")

    timeline.scene("1. A checkout that commits: effects go after COMMIT, when the request succeeds")
    response = client.post(
        "/checkout/", {"customer": "ada", "total_cents": 4200, "card": "4242-4242-4242-4242"}
    )
    timeline.say("response", f"{response.status_code} {response.content.decode()}")
    expect(
        "checkout",
        [("notify_warehouse", 1), ("send_confirmation", 1), ("send_shipping_email", 1)],
    )

    timeline.scene("2. A checkout whose payment fails: rolled back, 402, nothing dispatched")
    response = client.post(
        "/checkout/", {"customer": "bob", "total_cents": 999, "card": "4000-0000-0000-0002"}
    )
    timeline.say("response", f"{response.status_code} {response.content.decode()}")
    expect("declined checkout", [])

    for number in range(2, 201):
        from shop.models import Order

        Order.objects.create(customer=f"imported-{number}", total_cents=100)
    timeline.scene("3. Bulk backfill of 200 orders with --dry-run (DropAll): nothing escapes")
    timeline.quiet = True
    out = io.StringIO()
    call_command("backfill_orders", "--dry-run", stdout=out)
    timeline.quiet = False
    timeline.say("command", out.getvalue().strip())
    timeline.say("quiet", f"{timeline.quieted} buffered/dropped lines not shown")
    expect("backfill --dry-run", [])

    timeline.scene("4. Admin re-sends order #1 to the warehouse under BlockTasks: no 2nd email")
    staff = User.objects.create_superuser("staff", "staff@example.com", "not-a-secret")
    client.force_login(staff)
    response = client.post("/admin/shop/order/", {"action": "reprocess", "_selected_action": ["1"]})
    timeline.say("response", f"{response.status_code} (admin action)")
    expect("admin reprocess", [("notify_warehouse", 1)])

    timeline.scene("5. The process is killed right after COMMIT, before publishing")
    from shop.models import Order

    for scope in ("django", "outbox"):
        killed = subprocess.run(
            [sys.executable, "manage.py", "checkout_then_crash", "--scope", scope,
             "--customer", f"crash-{scope}"],
            cwd=HERE, timeout=WAIT_SECONDS, check=False,
        )  # fmt: skip
        order = Order.objects.get(customer=f"crash-{scope}")
        timeline.say(
            "database",
            f"{order} committed; the process died by signal {-killed.returncode}"
            f" ({'SIGKILL' if killed.returncode == -signal.SIGKILL else 'unexpected'})",
        )
        if scope == "django":
            timeline.say("lost", "DjangoScope held the effects in memory: nothing recorded them")
            expect("crash with DjangoScope", [])
            continue
        time.sleep(1.1)  # RELAY_AFTER: the relay leaves fresh rows to the fast path
        out = io.StringIO()
        call_command("airlock_relay", "--once", stdout=out)
        timeline.say("relay", out.getvalue().strip().splitlines()[-1])
        expect(
            "crash with the outbox",
            [("notify_warehouse", order.pk), ("send_confirmation", order.pk)],
        )

    if failures:
        print("\nUNEXPECTED:\n  " + "\n  ".join(failures))
        return 1
    print("\nEverything escaped exactly when it should, and nothing else did.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
