"""LegacyTaskShim and the global intercept, judged by what the workers receive."""

from __future__ import annotations

import warnings

import pytest
from worker_app import EMAILS, INTERCEPT_QUEUE

import airlock
from airlock.integrations.celery import (
    LegacyTaskShim,
    install_global_intercept,
    uninstall_global_intercept,
)

# -- LegacyTaskShim ----------------------------------------------------------


def test_shim_delay_warns_and_buffers_until_the_scope_exits(side, observations):
    label = observations.label()
    old_task = side.task("old_task")
    assert isinstance(old_task, LegacyTaskShim)
    with airlock.scope(executor="celery") as scope:
        with pytest.warns(DeprecationWarning, match=r"old_task\.delay\(\) is deprecated"):
            result = old_task.delay(label, 123)
        (intent,) = scope.intents
        assert intent.task is old_task
        assert intent.args == (label, 123)
        assert observations.get(label) == []
    (seen,) = observations.wait(label)
    assert seen["value"] == 123
    assert seen["old"] is True
    assert result.id == intent.dispatch_options["task_id"]


def test_shim_apply_async_keeps_its_options(side, observations):
    label = observations.label()
    with airlock.scope(executor="celery") as scope:
        with pytest.warns(DeprecationWarning, match=r"old_task\.apply_async\(\) is deprecated"):
            side.task("old_task").apply_async((label, "queued"), queue=EMAILS, countdown=0)
        assert scope.intents[0].dispatch_options["queue"] == EMAILS
    (seen,) = observations.wait(label)
    assert seen["value"] == "queued"


def test_shim_outside_a_scope_raises_no_scope_error(side, redis_broker):
    with (
        pytest.warns(DeprecationWarning, match="is deprecated"),
        pytest.raises(airlock.NoScopeError),
    ):
        side.task("old_task").delay("never", 1)


# -- install_global_intercept ------------------------------------------------


def test_intercept_outside_a_scope_publishes_with_a_warning(side, observations):
    install_global_intercept(side.app)
    label = observations.label()
    with pytest.warns(DeprecationWarning, match="outside an airlock scope"):
        side.task("record").delay(label, "direct")
    assert [s["value"] for s in observations.wait(label)] == ["direct"]


def test_intercept_inside_a_scope_buffers_with_options_and_publishes_once(
    side, observations, until_drained
):
    install_global_intercept(side.app)
    label = observations.label()
    record = side.task("record")
    with airlock.scope(executor="celery") as scope:
        with pytest.warns(DeprecationWarning, match="buffered"):
            result = record.apply_async((label, "emailed"), queue=EMAILS, priority=5)
        with pytest.warns(DeprecationWarning, match=r"record\.delay\(\) is buffered"):
            record.delay(label, "plain")
        first, second = scope.intents
        assert first.dispatch_options == {"queue": EMAILS, "priority": 5, "task_id": result.id}
        assert second.args == (label, "plain")
        assert observations.get(label) == []
    seen = {s["value"]: s for s in observations.wait(label, 2)}
    assert seen["emailed"]["hostname"] == side.workers["emails"].hostname
    assert seen["emailed"]["id"] == result.id
    until_drained(side)
    until_drained(side, EMAILS)
    assert len(observations.get(label)) == 2  # the executor's own publish was not re-buffered


def test_intercept_in_a_nested_scope_publishes_once_from_the_outer_one(
    side, observations, until_drained
):
    install_global_intercept(side.app)
    label = observations.label()
    with airlock.scope(executor="celery") as outer:
        with airlock.scope(executor="celery"), pytest.warns(DeprecationWarning, match="buffered"):
            side.task("record").delay(label, "nested")
        assert len(outer.captured_intents) == 1
    observations.wait(label)
    until_drained(side)
    assert len(observations.get(label)) == 1


def test_intercept_discarded_scope_sends_nothing(side, observations, until_drained):
    install_global_intercept(side.app)
    label = observations.label()
    scope = airlock.scope(executor="celery").enter()
    with pytest.warns(DeprecationWarning, match="buffered"):
        side.task("record").delay(label, "lost")
    scope.exit()
    assert len(scope.discard()) == 1  # what an exception at the end of the block does
    until_drained(side)
    assert observations.get(label) == []


def test_installing_twice_intercepts_once_and_uninstall_is_idempotent(
    side, observations, until_drained
):
    install_global_intercept(side.app)
    install_global_intercept(side.app)
    record = side.task("record")
    label = observations.label()
    with airlock.scope(executor="celery") as scope:
        with pytest.warns(DeprecationWarning, match="buffered"):
            record.delay(label, "once")
        assert len(scope.intents) == 1
    uninstall_global_intercept()
    uninstall_global_intercept()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        record.delay(label, "plain again")
    seen = observations.wait(label, 2)
    until_drained(side)
    assert sorted(s["value"] for s in observations.get(label)) == ["once", "plain again"]
    assert len(seen) == 2


def test_intercept_leaves_other_apps_alone(side, redis_side, amqp_side):
    other = amqp_side if side is redis_side else redis_side
    install_global_intercept(side.app)
    with airlock.scope(executor="celery") as scope, warnings.catch_warnings():
        warnings.simplefilter("error")
        other.task("record").apply_async(("celery-other-app", 1), queue="celery_unconsumed")
        assert scope.intents == []
    if other is amqp_side:
        other.purge("celery_unconsumed", delete=True)


def test_intercept_rejects_what_is_not_an_app():
    with pytest.raises(airlock.UsageError, match="takes the Celery app"):
        install_global_intercept("myapp")


def test_worker_runs_intercepted_tasks_in_a_scope(side, observations, until_drained):
    label = observations.label()
    side.task("legacy_parent").apply_async((label,), queue=INTERCEPT_QUEUE)
    assert observations.wait(label + ":ran") == [{"fail": False, "scoped": True}]
    seen = observations.wait(label, 2)
    assert sorted(s["value"] for s in seen) == ["child", "emailed"]
    assert {s["priority"] for s in seen if s["value"] == "emailed"} == {3}


def test_worker_discards_what_a_failed_intercepted_task_buffered(side, observations, until_drained):
    label = observations.label()
    result = side.task("legacy_parent").apply_async((label, True), queue=INTERCEPT_QUEUE)
    observations.wait("done:" + result.id)
    until_drained(side)
    assert observations.get(label + ":ran") == [{"fail": True, "scoped": True}]
    assert observations.get(label) == []
