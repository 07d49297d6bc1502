"""Argument mistakes on a Celery task fail at ``enqueue()``, with Celery's own check.

The plugin answers ``airlock_task_signature`` with what ``.delay()`` checks a
call against (the task's ``__header__``), or ``False`` where Celery checks
nothing (``typing=False``). Real workers show that what was accepted arrives
and that nothing else in the scope was lost.
"""

from __future__ import annotations

import os

import pytest
from celery import Celery, Task
from worker_app import make_app

import airlock


@pytest.fixture(scope="module")
def app(broker_redis_url, observe_url):
    app = make_app(broker_redis_url, observe_url, name="airlock_celery_arguments")
    yield app
    app.close()


def signature_of(task):
    """What the installed plugins answer for ``task`` (the first answer wins)."""
    return airlock.plugins.manager().hook.airlock_task_signature(task=task)


def test_a_mistake_fails_at_enqueue_with_celerys_message_and_loses_nothing(side, observations):
    record = side.app.declared["record"]  # as module-level code holds a task
    with pytest.raises(TypeError) as direct:
        record.delay()
    label = observations.label()
    with airlock.scope() as scope:
        airlock.enqueue(record, label, "before")
        with pytest.raises(airlock.TaskArgumentError) as refused:
            airlock.enqueue(record)
        airlock.enqueue(record, label, "after")
    assert isinstance(refused.value, TypeError)
    assert isinstance(refused.value, airlock.UsageError)
    assert str(direct.value) == "record() missing 1 required positional argument: 'label'"
    assert str(direct.value) in str(refused.value)
    assert [intent.args for intent in scope.intents] == [(label, "before"), (label, "after")]
    seen = observations.wait(label, 2)
    assert sorted(s["value"] for s in seen) == ["after", "before"]
    assert {s["pid"] for s in seen} == {side.workers["default"].process.pid}


def test_a_keyword_typo_is_refused_with_the_message_delay_gives(app):
    typed = app.tasks["airlock_tests.log_api_usage"]
    with pytest.raises(TypeError) as direct:
        typed.delay(1, {}, user_idd=2)
    with airlock.scope(policy=airlock.DropAll()) as scope:
        with pytest.raises(airlock.TaskArgumentError) as refused:
            airlock.enqueue(typed, 1, {}, user_idd=2)
        airlock.enqueue(typed, 1, {})
    assert str(direct.value).startswith(  # Python 3.13 adds "Did you mean 'user_id'?"
        "log_api_usage() got an unexpected keyword argument 'user_idd'"
    )
    assert str(direct.value) in str(refused.value)
    assert [intent.args for intent in scope.intents] == [(1, {})]


def test_a_bound_task_is_checked_without_self(app):
    """``record`` is ``bind=True``: ``(self, label, value=None, **extra)``."""
    record = app.tasks["airlock_tests.record"]
    with airlock.scope(policy=airlock.DropAll()) as scope:
        airlock.enqueue(record, "label")  # with self counted, "label" would be self
        with pytest.raises(airlock.TaskArgumentError) as refused:
            airlock.enqueue(record, "label", "value", "one too many")
    assert "record() takes from 1 to 2 positional arguments but 3 were given" in str(refused.value)
    assert [intent.args for intent in scope.intents] == [("label",)]


def test_a_typing_false_task_is_not_checked(side, observations):
    """``tenant_report(label, tenant)`` gets ``tenant`` from its base class when it runs."""
    tenant_report = side.app.declared["tenant_report"]
    with pytest.raises(TypeError):
        tenant_report.__header__("label")  # what Celery would check, were typing on
    assert signature_of(tenant_report) is False
    label = observations.label()
    with airlock.scope():
        airlock.enqueue(tenant_report, label)
    (seen,) = observations.wait(label)
    assert seen["value"] == "acme"
    assert seen["pid"] == side.workers["default"].process.pid != os.getpid()


def test_what_the_plugin_answers_for_each_kind_of_object(app):
    record = app.tasks["airlock_tests.record"]
    assert signature_of(record) is record.__header__
    assert signature_of(app.declared["record"]) is record.__header__
    assert signature_of(app.tasks["airlock_tests.tenant_report"]) is False
    assert signature_of(record.s("label")) is False  # joins the signature's own arguments
    assert signature_of(len) is None  # not Celery's: airlock checks it itself

    class Registered(Task):  # type: ignore[misc]
        """A class-based task: Celery checks nothing (it has no __header__)."""

        name = "airlock_tests.class_based"

        def run(self, label):
            """Never runs."""

    assert signature_of(app.register_task(Registered())) is False


def test_a_signatures_arguments_are_checked_by_celery_at_flush(app):
    """They join the signature's own: ``record.s("label")`` then ``(1, 2)`` is three arguments."""
    partial = app.tasks["airlock_tests.record"].s("label")

    def run():
        with airlock.scope():
            airlock.enqueue(partial, 1, 2)  # accepted: the signature decides at flush

    with pytest.raises(airlock.DispatchError) as flushed:
        run()
    ((_, cause),) = flushed.value.failed
    assert type(cause) is TypeError
    assert "positional arguments" in str(cause)


def test_skip_argument_check_leaves_celerys_own_check_at_flush(app):
    @app.task(name="airlock_tests.exempted", shared=False)
    def exempted(label):
        """Never runs: Celery refuses the call before publishing it."""

    airlock.skip_argument_check(exempted)

    def run():
        with airlock.scope():
            airlock.enqueue(exempted, "label", "one too many")  # accepted by airlock

    with pytest.raises(airlock.DispatchError) as flushed:
        run()
    ((intent, cause),) = flushed.value.failed
    assert intent.args == ("label", "one too many")
    assert type(cause) is TypeError
    assert str(cause) == "exempted() takes 1 positional argument but 2 were given"


def test_an_app_with_strict_typing_off_opts_all_its_tasks_out():
    relaxed = Celery("airlock_celery_relaxed", set_as_current=False, strict_typing=False)

    @relaxed.task(name="airlock_tests.relaxed", shared=False)
    def relaxed_task(label):
        """Never runs."""

    assert signature_of(relaxed_task) is False
    with airlock.scope(policy=airlock.DropAll()) as scope:
        airlock.enqueue(relaxed_task)
    assert len(scope.intents) == 1
    relaxed.close()
