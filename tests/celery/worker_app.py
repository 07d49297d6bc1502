"""The Celery app the suite's workers run, and the tasks both sides share.

``make_app(broker_url, observe_url)`` builds an app with the suite's tasks;
the worker loads ``worker_app:app``, built from the environment. Tasks report
what they saw (worker hostname and pid, queue, priority, eta, headers, time) by
pushing JSON to the ``celery:obs:<label>`` list in the observation database,
so tests judge from the worker side.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import redis
from celery import Celery, Task
from celery.signals import task_postrun

import airlock
from airlock_celery import LegacyTaskShim, ScopedTask, install_global_intercept

QUEUE = "celery_default"
EMAILS = "celery_emails"
INTERCEPT_QUEUE = "celery_intercept"
OBS_PREFIX = "celery:obs:"


def make_app(broker_url: str, observe_url: str, *, name: str = "airlock_celery_tests") -> Celery:
    app = Celery(name, broker=broker_url, set_as_current=False)
    app.conf.update(
        task_default_queue=QUEUE,
        task_default_exchange=QUEUE,
        task_default_routing_key=QUEUE,
        event_exchange="celery_ev",
        control_exchange="celery_ctl",
        worker_enable_remote_control=False,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        task_acks_late=False,
        worker_prefetch_multiplier=1,
    )
    observations = redis.Redis.from_url(observe_url)

    def observe(label: str, **seen: Any) -> None:
        observations.rpush(OBS_PREFIX + label, json.dumps(seen, default=str))

    @app.task(name="airlock_tests.record", shared=False, bind=True)
    def record(self: Any, label: str, value: Any = None, **extra: Any) -> None:
        request = self.request
        delivery = request.delivery_info or {}
        observe(
            label,
            value=value,
            extra=extra,
            id=request.id,
            parent_id=request.parent_id,
            root_id=request.root_id,
            argsrepr=getattr(request, "argsrepr", None),
            hostname=request.hostname,
            pid=os.getpid(),
            routing_key=delivery.get("routing_key"),
            priority=delivery.get("priority"),
            eta=request.eta,
            trace=getattr(request, "x_trace", None),
            at=time.time(),
        )

    @app.task(name="airlock_tests.scoped_order", shared=False)
    @airlock.scoped(executor="celery")
    def scoped_order(label: str, fail: bool = False) -> None:
        airlock.enqueue(record, label, "email")
        airlock.enqueue(record, label, "analytics")
        observe(label + ":ran", fail=fail)
        if fail:
            raise ValueError("the order failed")

    @app.task(name="airlock_tests.scoped_pair", shared=False)
    @airlock.scoped(executor="celery")
    def scoped_pair(label: str) -> None:
        """Send the same call directly and through airlock, from inside a worker task."""
        record.apply_async((label, "direct"), {"extra": 1}, priority=3)
        for copy in ("airlock", "airlock-again"):
            airlock.enqueue(record, label, copy, extra=1, _dispatch_options={"priority": 3})

    @app.task(name="airlock_tests.scoped_retry", shared=False, bind=True, max_retries=1)
    @airlock.scoped(executor="celery")
    def scoped_retry(self: Any, label: str) -> None:
        attempt = self.request.retries
        airlock.enqueue(record, label, f"attempt-{attempt}")
        observe(label + ":ran", attempt=attempt)
        if attempt == 0:
            raise self.retry(countdown=0)

    @app.task(
        name="airlock_tests.based_order",
        shared=False,
        base=ScopedTask,
        airlock_scope={"executor": "celery"},
    )
    def based_order(label: str, fail: bool = False) -> None:
        airlock.enqueue(record, label, "email")
        observe(label + ":ran", fail=fail)
        if fail:
            raise ValueError("the order failed")

    @app.task(name="airlock_tests.legacy_parent", shared=False)
    def legacy_parent(label: str, fail: bool = False) -> None:
        record.delay(label, "child")
        record.apply_async((label, "emailed"), queue=QUEUE, priority=3)
        observe(label + ":ran", fail=fail, scoped=airlock.get_current_scope() is not None)
        if fail:
            raise ValueError("the legacy task failed")

    @app.task(name="airlock_tests.old_task", shared=False, base=LegacyTaskShim)
    def old_task(label: str, value: Any = None) -> None:
        observe(label, value=value, old=True)

    @app.task(name="airlock_tests.log_api_usage", shared=False)
    def log_api_usage(user_id: int, data: Any) -> None:
        observe(f"api-usage:{user_id}", data=data)

    class User:
        """The documented re-entrant model: saving it enqueues its enrichment."""

        def __init__(self, id: int, age: int | None = None, income: int | None = None) -> None:
            self.id = id
            self.age = age
            self.income = income

        def save(self) -> None:
            observations.hset(
                f"celery:user:{self.id}", mapping={"age": self.age or 0, "income": self.income or 0}
            )
            airlock.enqueue(enrich_from_api, id=self.id)

    class Response:
        def __init__(self, data: Any) -> None:
            self.data = data

    def fetch_user(user_id: int) -> User:
        return User(user_id)

    def external_enrichment_api(user: User) -> tuple[int, int]:
        response = Response({"age": 42, "income": 1000})
        airlock.enqueue(log_api_usage, user.id, response.data)
        return response.data["age"], response.data["income"]

    @app.task(name="airlock_tests.enrich_from_api", shared=False)
    def enrich_from_api(id: int) -> None:
        observe(f"enrich:{id}")
        user = fetch_user(id)
        with airlock.scope():
            age, income = external_enrichment_api(user)
            user.age, user.income = age, income
            with airlock.policy(airlock.BlockTasks({"enrich_from_api"})):
                user.save()

    class TenantTask(Task):  # type: ignore[misc]
        """Fills in ``tenant`` when the task runs, so callers never pass it."""

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return super().__call__(*args, tenant="acme", **kwargs)

    @app.task(name="airlock_tests.tenant_report", shared=False, base=TenantTask, typing=False)
    def tenant_report(label: str, tenant: str) -> None:
        """Its signature names an argument its callers never give: ``typing=False`` says so."""
        observe(label, value=tenant, pid=os.getpid())

    #: What ``@app.task`` returned, as module-level code holds it: a lazy proxy, since
    #: the app was not finalized yet (its type is not a Task class).
    app.declared = {"record": record, "tenant_report": tenant_report}  # type: ignore[attr-defined]
    app.User = User  # type: ignore[attr-defined]
    app.observe = observe  # type: ignore[attr-defined]
    return app


def _from_environment() -> Celery | None:
    broker = os.environ.get("AIRLOCK_CELERY_BROKER")
    if not broker:
        return None
    airlock.configure(executor="celery")
    worker_app = make_app(broker, os.environ["AIRLOCK_CELERY_OBSERVE"])
    if os.environ.get("AIRLOCK_CELERY_INTERCEPT") == "1":
        install_global_intercept(worker_app)

    @task_postrun.connect(weak=False)
    def report_done(task_id: str, state: str | None = None, **_: Any) -> None:
        worker_app.observe(f"done:{task_id}", state=state)  # type: ignore[attr-defined]

    return worker_app


app = _from_environment()
