"""DjangoScope against real transactions: PostgreSQL (default) and SQLite."""

from __future__ import annotations

import logging

import pytest
from airtest import effects
from airtest.models import Order
from django.db import IntegrityError, transaction

import airlock
from airlock_django import DjangoScope

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "observer", "sqlite"])

BOTH = pytest.mark.parametrize("using", ["default", "sqlite"])


def _order(using: str, number: str = "A-1") -> Order:
    return Order.objects.using(using).create(number=number)


def test_installed_app_makes_plain_scope_a_django_scope() -> None:
    with airlock.scope() as scope:
        pass
    assert type(scope) is DjangoScope
    assert scope.using == "default"


@BOTH
def test_dispatch_waits_for_commit(using: str) -> None:
    with transaction.atomic(using=using), airlock.scope(using=using):
        order = _order(using)
        order.process(using)
    # dispatched by on_commit, after the row became visible to other connections
    assert [
        ("notify_warehouse", order.pk, True),
        ("send_confirmation", order.pk, True),
    ] == effects.SENT


@BOTH
def test_scope_inside_transaction_defers_until_outer_commit(using: str) -> None:
    with transaction.atomic(using=using):
        with airlock.scope(using=using) as scope:
            _order(using).process(using)
        assert scope.is_flushed
        assert effects.SENT == []
    assert effects.sent() == ["notify_warehouse", "send_confirmation"]


@BOTH
def test_rolled_back_transaction_dispatches_nothing(using: str) -> None:
    def checkout() -> None:
        with transaction.atomic(using=using):
            with airlock.scope(using=using):
                _order(using).process(using)
            raise RuntimeError("payment declined")

    with pytest.raises(RuntimeError, match="declined"):
        checkout()
    assert effects.SENT == []


@BOTH
def test_rollback_caught_inside_the_scope_still_keeps_effects_in(using: str) -> None:
    with airlock.scope(using=using) as scope:
        kept = _order(using, "kept")
        kept.process(using)
        try:
            with transaction.atomic(using=using):
                _order(using, "lost").process(using)
                raise IntegrityError("duplicate")
        except IntegrityError:
            pass
    assert len(scope.intents) == 4
    assert [pk for _, pk, _ in effects.SENT] == [kept.pk, kept.pk]


@BOTH
def test_savepoint_rollback_drops_only_its_own_effects(using: str) -> None:
    with transaction.atomic(using=using), airlock.scope(using=using):
        kept = _order(using, "kept")
        kept.process(using)
        try:
            with transaction.atomic(using=using):
                _order(using, "lost").process(using)
                raise IntegrityError("duplicate")
        except IntegrityError:
            pass
        with transaction.atomic(using=using):
            inner = _order(using, "inner")
            inner.process(using)
    assert [pk for _, pk, _ in effects.SENT] == [kept.pk, kept.pk, inner.pk, inner.pk]


@BOTH
def test_set_rollback_without_exception_drops_effects(using: str) -> None:
    with airlock.scope(using=using), transaction.atomic(using=using):
        _order(using).process(using)
        transaction.set_rollback(True, using=using)
    assert effects.SENT == []


@BOTH
def test_outside_a_transaction_effects_go_at_scope_exit(using: str) -> None:
    with airlock.scope(using=using):
        order = _order(using)
        order.process(using)
        assert effects.SENT == []
    assert [
        ("notify_warehouse", order.pk, True),
        ("send_confirmation", order.pk, True),
    ] == effects.SENT


def test_nested_scope_is_captured_by_the_outer_one() -> None:
    with transaction.atomic(), airlock.scope() as outer:
        with airlock.scope() as inner:
            _order("default").process()
        assert inner.is_flushed
        assert len(outer.captured_intents) == 2
    assert effects.sent() == ["notify_warehouse", "send_confirmation"]


def test_discarded_scope_dispatches_nothing_even_after_commit() -> None:
    def process() -> None:
        with airlock.scope():
            _order("default").process()
            raise ValueError("bad input")

    with transaction.atomic(), pytest.raises(ValueError, match="bad input"):
        process()
    assert effects.SENT == []


def test_policy_applies_before_deferral() -> None:
    with transaction.atomic(), airlock.scope(policy=airlock.BlockTasks({"send_confirmation"})):
        _order("default").process()
    assert effects.sent() == ["notify_warehouse"]


def test_failing_on_commit_dispatch_is_reported_and_other_callbacks_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failures: list[tuple[str, str]] = []

    class Recorder:
        @airlock.hookimpl
        def airlock_dispatch_failed(self, intent: airlock.Intent, error: BaseException) -> None:
            failures.append((intent.name, str(error)))

    airlock.plugins.register(Recorder(), name="django-test-recorder")
    after: list[str] = []
    try:
        with caplog.at_level(logging.ERROR), transaction.atomic():
            with airlock.scope():
                airlock.enqueue(effects.fail)
                airlock.enqueue(effects.send_confirmation, 0)
            transaction.on_commit(lambda: after.append("user callback"))
            with airlock.scope():
                airlock.enqueue(effects.notify_warehouse, 0)
    finally:
        airlock.plugins.unregister("django-test-recorder")
    assert failures == [("fail", "the broker is down")]
    assert after == ["user callback"]
    assert effects.sent() == ["notify_warehouse"]  # the second scope's effects still went
    messages = [r.getMessage() for r in caplog.records if r.name == "airlock"]
    assert any("1 failed, 1 pending" in m for m in messages)


def test_failing_dispatch_outside_transaction_raises() -> None:
    def flush() -> None:
        with airlock.scope():
            airlock.enqueue(effects.fail)
            airlock.enqueue(effects.send_confirmation, 0)

    with pytest.raises(airlock.DispatchError) as caught:
        flush()
    assert [i.name for i in caught.value.pending] == ["send_confirmation"]


def test_continue_on_dispatch_error_sends_the_rest_after_commit() -> None:
    with transaction.atomic(), airlock.scope(on_dispatch_error="continue"):
        airlock.enqueue(effects.fail)
        airlock.enqueue(effects.send_confirmation, 0)
    assert effects.sent() == ["send_confirmation"]


def test_unknown_database_alias_is_a_usage_error() -> None:
    with pytest.raises(airlock.UsageError, match="no such database"):
        airlock.scope(using="nope")


def test_manual_transaction_management_dispatches_nothing() -> None:
    def enqueue_one() -> None:
        with airlock.scope():
            airlock.enqueue(effects.send_confirmation, 0)

    transaction.set_autocommit(False)
    try:
        with pytest.raises(airlock.DispatchError) as caught:
            enqueue_one()
        transaction.rollback()
    finally:
        transaction.set_autocommit(True)
    assert len(caught.value.pending) == 1
    assert effects.SENT == []


def test_rolled_back_intents_are_reported_as_discarded() -> None:
    seen: list[list[str]] = []

    class Recorder:
        @airlock.hookimpl
        def airlock_scope_discarded(self, scope: airlock.Scope, intents: list) -> None:
            seen.append([i.name for i in intents])

    airlock.plugins.register(Recorder(), name="django-test-discards")

    def rolled_back() -> None:
        with transaction.atomic():
            _order("default").process()
            raise RuntimeError("rolled back")

    try:
        with airlock.scope(), pytest.raises(RuntimeError, match="rolled back"):
            rolled_back()
    finally:
        airlock.plugins.unregister("django-test-discards")
    assert seen == [["notify_warehouse", "send_confirmation"]]
