"""Routing by task kind with no executor configured, and finding tasks by name.

With nothing configured, airlock's task router (executor ``auto``) sends what
this plugin claims (Celery tasks, the proxies ``@app.task`` and
``@shared_task`` return, signatures) to the ``celery`` executor and runs plain
callables in-process. Real workers on Redis and RabbitMQ show where each ran.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from celery import chain, chord, group, shared_task
from worker_app import make_app

import airlock
from airlock_celery import celery_executor
from airlock_celery.plugin import TASK_KINDS


def mro_paths(obj: object) -> list[str]:
    """What the router reads from a task: the import path of each class in its type's MRO."""
    return [f"{cls.__module__}.{cls.__qualname__}" for cls in type(obj).__mro__]


@pytest.fixture(scope="module")
def app(broker_redis_url, observe_url):
    app = make_app(broker_redis_url, observe_url, name="airlock_celery_routing")
    yield app
    app.close()


@pytest.fixture(scope="module")
def shared():
    """A ``@shared_task``: a proxy to the task of that name on the current app."""

    @shared_task(name="airlock_tests_shared.ping")
    def ping(value):
        """Never runs: these tests only route it."""

    return ping


@pytest.fixture
def batches(monkeypatch):
    """Each batch the ``celery`` executor's ``dispatch_many`` received (it still sends them)."""
    seen = []
    send = celery_executor.dispatch_many

    def recording(intents):
        seen.append(list(intents))
        send(intents)

    monkeypatch.setattr(celery_executor, "dispatch_many", recording)
    return seen


def test_each_claimed_kind_is_a_real_class_path_of_what_celery_returns(app, shared):
    record = app.tasks["airlock_tests.record"]
    declared = app.declared["record"]
    examples = {
        "celery.app.task.Task": [record],
        "celery.canvas.Signature": [
            record.s("x"),
            record.si("x"),
            chain(record.s("x"), record.s()),
            group(record.s("x")),
            chord([record.s("x")], record.s()),
        ],
        "celery.local.PromiseProxy": [declared],
        "celery.local.celery.local": [shared, declared],
    }
    assert set(examples) == set(TASK_KINDS)
    for path, objects in examples.items():
        for obj in objects:
            assert path in mro_paths(obj), (path, type(obj))
            assert airlock.plugins.executor_name_for(obj) == "celery"
    assert airlock.plugins.task_kinds().items() >= TASK_KINDS.items()
    assert airlock.plugins.executor_name_for(print) == "sync"
    assert airlock.plugins.executor_name_for(mro_paths) == "sync"


def test_with_no_executor_a_task_goes_to_a_worker_and_a_function_runs_here(
    side, observations, batches
):
    assert airlock.get_configuration()["executor"] is airlock.plugins.lookup("executor", "auto")
    label = observations.label()
    declared = side.app.declared["record"]  # as module-level code holds a task
    record = side.task("record")
    ran = []

    def audit(order_id):
        ran.append((order_id, os.getpid()))

    with airlock.scope():
        airlock.enqueue(declared, label, "declared")
        airlock.enqueue(audit, 7)
        airlock.enqueue(record, label, "registered")
        airlock.enqueue(audit, 8)
    assert ran == [(7, os.getpid()), (8, os.getpid())]
    seen = {s["value"]: s for s in observations.wait(label, 2)}
    assert set(seen) == {"declared", "registered"}
    worker = side.workers["default"]
    for observed in seen.values():
        assert observed["pid"] == worker.process.pid != os.getpid()
        assert observed["hostname"] == worker.hostname
    # One batch for the celery executor, holding only its own intents, in order.
    assert [[intent.args[1] for intent in batch] for batch in batches] == [
        ["declared", "registered"]
    ]


def test_an_explicit_executor_still_wins(app, observations):
    """``sync`` chosen for a scope runs even a Celery task in this process."""
    label = observations.label()
    with airlock.scope(executor="sync"):
        airlock.enqueue(app.declared["record"], label, "here")
    (seen,) = observations.wait(label)
    assert seen["pid"] == os.getpid()


def test_a_signature_with_no_executor_goes_to_a_worker(side, observations):
    label = observations.label()
    with airlock.scope():
        airlock.enqueue(side.task("record").s(label, "signature"))
    (seen,) = observations.wait(label)
    assert seen["value"] == "signature"
    assert seen["pid"] == side.workers["default"].process.pid


def test_a_task_name_with_no_executor_is_routed_to_a_worker(
    side, observations, make_current, batches
):
    make_current(side.app)
    label = observations.label()
    with airlock.scope():
        airlock.enqueue("airlock_tests.record", label, "by name")
    (seen,) = observations.wait(label)
    assert seen["value"] == "by name"
    assert seen["pid"] == side.workers["default"].process.pid
    assert [[intent.task for intent in batch] for batch in batches] == [["airlock_tests.record"]]


# -- airlock.plugins.resolve_task: what the outbox relay asks --------------------------


def test_resolve_task_returns_the_task_registered_on_the_current_app(app, make_current):
    make_current(app)
    record = app.tasks["airlock_tests.record"]
    assert airlock.plugins.resolve_task("airlock_tests.record") is record
    assert airlock.plugins.resolve_task("airlock_tests.no_such_task") is None


def test_resolve_task_never_imports_what_a_name_points_to(app, make_current, probe):
    make_current(app)
    assert airlock.plugins.resolve_task("airlock_celery_probe.run") is None
    assert airlock.plugins.resolve_task("os.system") is None
    assert not probe.exists()
    assert "airlock_celery_probe" not in sys.modules


def test_resolve_task_imports_the_apps_own_task_modules_as_a_worker_does(
    broker_redis_url, observe_url, make_current, probe
):
    """``imports`` and ``autodiscover_tasks()`` (how a Django project lists its tasks)."""
    finder = make_app(broker_redis_url, observe_url, name="airlock_celery_finder")
    finder.conf.imports = ["airlock_celery_probe_tasks"]
    finder.autodiscover_tasks(["airlock_celery_probe_pkg"])
    make_current(finder)
    try:
        listed = airlock.plugins.resolve_task("airlock_probe.listed")
        discovered = airlock.plugins.resolve_task("airlock_probe.discovered")
        assert listed is finder.tasks["airlock_probe.listed"]
        assert discovered is finder.tasks["airlock_probe.discovered"]
        assert "airlock_celery_probe" not in sys.modules  # only the app's own modules
    finally:
        finder.close()


def test_a_task_module_that_fails_to_import_is_reported_each_time(
    broker_redis_url, observe_url, make_current
):
    broken = make_app(broker_redis_url, observe_url, name="airlock_celery_broken")
    broken.conf.imports = ["airlock_celery_no_such_module"]
    make_current(broken)
    try:
        for _ in range(2):
            with pytest.raises(ModuleNotFoundError, match="airlock_celery_no_such_module"):
                airlock.plugins.resolve_task("airlock_tests.elsewhere")
        # What is registered is still found without importing anything.
        assert airlock.plugins.resolve_task("airlock_tests.record") is not None
    finally:
        broken.close()


def test_resolve_task_works_for_an_app_with_no_broker(make_current):
    from celery import Celery

    lonely = Celery("airlock_celery_unconfigured", set_as_current=False)

    @lonely.task(name="airlock_tests.unconfigured", shared=False)
    def unconfigured():
        """Never runs."""

    make_current(lonely)
    assert (
        airlock.plugins.resolve_task("airlock_tests.unconfigured")
        is lonely.tasks["airlock_tests.unconfigured"]
    )


# -- a process that never uses Celery, or has no broker configured ------------------------

#: Run in a fresh interpreter with no broker and no executor in the environment.
UNCONFIGURED = {
    key: value
    for key, value in os.environ.items()
    if not key.startswith(("CELERY_", "AIRLOCK_EXECUTOR", "DJANGO_SETTINGS_MODULE"))
}


def run_fresh(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=UNCONFIGURED,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_hooks_leave_celery_unimported_in_a_process_that_does_not_use_it():
    code = (
        "import json, sys, airlock\n"
        "import airlock_celery.plugin\n"
        "def audit(n):\n"
        "    print('audit', n)\n"
        "with airlock.scope():\n"
        "    airlock.enqueue(audit, 1)\n"
        "print(json.dumps({\n"
        "    'kinds': airlock.plugins.task_kinds(),\n"
        "    'resolved': airlock.plugins.resolve_task('myapp.send_email'),\n"
        "    'route': airlock.plugins.executor_name_for(audit),\n"
        "    'imported': sorted({'celery', 'kombu'} & set(sys.modules)),\n"
        "}))\n"
    )
    audit, result = run_fresh(code).splitlines()
    assert audit == "audit 1"
    found = json.loads(result)
    # other installed plugins (airlock-dramatiq, airlock-huey, ...) add their own kinds
    assert found.pop("kinds").items() >= TASK_KINDS.items()
    assert found == {"resolved": None, "route": "sync", "imported": []}


def test_airlock_check_shows_the_routing_with_celery_installed_but_unconfigured():
    code = (
        "import runpy, sys\n"
        "sys.argv = ['airlock', 'check']\n"
        "try:\n"
        "    runpy.run_module('airlock', run_name='__main__')\n"
        "except SystemExit as exit:\n"
        "    print('exit', exit.code, 'celery' in sys.modules)\n"
    )
    output = run_fresh(code)
    assert output.startswith("airlock check: OK (executor=auto ")
    for path in TASK_KINDS:
        assert f"    {path} -> celery\n" in output
    assert output.endswith("exit 0 False\n")


def test_airlock_check_passes_with_a_celery_app_that_has_no_broker():
    code = (
        "import runpy, sys\n"
        "from celery import Celery\n"
        "app = Celery('unconfigured')\n"
        "@app.task\n"
        "def ping():\n"
        "    pass\n"
        "sys.argv = ['airlock', 'check']\n"
        "try:\n"
        "    runpy.run_module('airlock', run_name='__main__')\n"
        "except SystemExit as exit:\n"
        "    print('exit', exit.code)\n"
        "import airlock\n"
        "print(airlock.plugins.resolve_task(ping.name) is app.tasks[ping.name])\n"
    )
    output = run_fresh(code)
    assert "    celery.app.task.Task -> celery\n" in output
    assert output.endswith("exit 0\nTrue\n")


def test_airlock_plugins_lists_the_task_kinds_and_hooks(listed_plugins):
    celery = listed_plugins["celery"]
    assert celery["error"] is None
    assert celery["registers"]["task kind"] == [f"{p} -> celery" for p in sorted(TASK_KINDS)]
    assert {
        "airlock_register_executors",
        "airlock_register_task_kinds",
        "airlock_resolve_task",
        "airlock_task_signature",
    } <= set(celery["hooks"])


def test_a_celery_proxy_to_a_plain_function_runs_in_process():
    """Claimed by kind, sent to the ``celery`` executor, which runs what is not a task here."""
    from celery.local import Proxy

    ran = []

    def audit(order_id):
        ran.append((order_id, os.getpid()))

    proxy = Proxy(lambda: audit)
    assert airlock.plugins.executor_name_for(proxy) == "celery"
    with airlock.scope():
        airlock.enqueue(proxy, 7)
    assert ran == [(7, os.getpid())]
