"""With no executor configured, actors go to Dramatiq and plain callables run here.

airlock's default executor is the task router (``auto``): the dramatiq plugin
claims Dramatiq's actor classes, finds actors by name on the global broker, and
gives an actor's signature for the argument check at ``enqueue()``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import dramatiq
import dramatiq.broker
import pytest
from conftest import App

import airlock
import airlock.plugins

pytestmark = pytest.mark.slow

KINDS = {"dramatiq.actor.Actor": "dramatiq", "dramatiq.generic.GenericActor": "dramatiq"}


@pytest.fixture
def current_broker(app: App) -> Iterator[App]:
    """``app``'s broker is Dramatiq's global broker for the test (both apps set it on import)."""
    previous = dramatiq.broker.global_broker
    dramatiq.set_broker(app.broker)
    yield app
    dramatiq.set_broker(previous)  # type: ignore[arg-type]


def test_the_kinds_are_the_real_classes() -> None:
    for path in KINDS:
        module, _, name = path.rpartition(".")
        cls = getattr(sys.modules[module], name)
        assert f"{cls.__module__}.{cls.__qualname__}" == path
    assert airlock.plugins.task_kinds().items() >= KINDS.items()


def test_actors_go_to_the_worker_and_functions_run_here(app: App) -> None:
    ran: list[tuple[int, int]] = []

    def audit(order_id: int) -> None:
        """A plain function: the router runs it in-process."""
        ran.append((order_id, os.getpid()))

    assert airlock.get_configuration()["executor"] is airlock.plugins.lookup("executor", "auto")
    with airlock.scope():
        airlock.enqueue(app.record_pid, "routed")
        airlock.enqueue(audit, 7)
        airlock.enqueue(app.RecordGeneric, "routed_generic", 8)
        assert ran == []
    assert ran == [(7, os.getpid())]
    [worker_pid] = app.wait_for("routed")
    assert int(worker_pid) != os.getpid()  # the actor ran in the worker, not here
    assert app.wait_for("routed_generic") == ["generic 8"]
    assert airlock.plugins.executor_name_for(app.record) == "dramatiq"
    assert airlock.plugins.executor_name_for(app.RecordGeneric) == "dramatiq"
    assert airlock.plugins.executor_name_for(audit) == "sync"


def test_an_actor_name_resolves_on_the_global_broker(current_broker: App) -> None:
    app = current_broker
    assert airlock.plugins.resolve_task("record") is app.record
    assert airlock.plugins.resolve_task("RecordGeneric") is app.RecordGeneric.__actor__
    assert airlock.plugins.resolve_task("no_such_actor") is None
    with airlock.scope():
        airlock.enqueue("record", "by_name", 1)
    assert app.wait_for("by_name") == ["1"]


def test_an_argument_mistake_fails_at_enqueue(app: App) -> None:
    with airlock.scope() as scope:
        airlock.enqueue(app.record, "checked", 1)
        with pytest.raises(airlock.TaskArgumentError, match="'valeu'") as caught:
            airlock.enqueue(app.record, key="checked", valeu=2)
        assert isinstance(caught.value, TypeError)
        with pytest.raises(airlock.TaskArgumentError, match="'value'"):
            airlock.enqueue(app.record, "checked")  # missing
        with pytest.raises(TypeError, match="'order_id'"):
            airlock.enqueue(app.place_order_async, fail=True)  # an async def actor
        with pytest.raises(airlock.TaskArgumentError, match="positional"):
            airlock.enqueue(app.RecordGeneric, "checked", 3, 4)  # a class-based actor
        airlock.enqueue(app.record, "checked", 5)  # the scope stays usable
        assert [i.args for i in scope.intents] == [("checked", 1), ("checked", 5)]
    assert sorted(app.wait_for("checked", 2)) == ["1", "5"]


def _airlock(*command: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "AIRLOCK_EXECUTOR"}
    return subprocess.run(
        [sys.executable, "-m", "airlock", *command],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_plugins_and_check_show_the_kinds(listed_plugins: dict[str, Any]) -> None:
    registered = listed_plugins["dramatiq"]["registers"]["task kind"]
    assert registered == [f"{path} -> dramatiq" for path in sorted(KINDS)]
    table = _airlock("plugins").stdout
    [row] = [line for line in table.splitlines() if line.startswith("dramatiq ")]
    assert "dramatiq.actor.Actor -> dramatiq, dramatiq.generic.GenericActor -> dramatiq" in row
    done = _airlock("check")
    assert done.returncode == 0, done.stdout + done.stderr
    for path in KINDS:
        assert f"{path} -> dramatiq" in done.stdout
    assert "any other callable -> sync (in-process)" in done.stdout
