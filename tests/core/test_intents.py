"""Intent: its fields, its name for every kind of task, its repr, its identity."""

from __future__ import annotations

import functools
from typing import Any
from unittest import mock

from coresupport import Recorder

import airlock


def send_email(*args: Any, **kwargs: Any) -> None:
    pass


class CeleryLikeTask:
    """Looks like a Celery task: a ``name`` with the full dotted task name."""

    name = "proj.tasks.notify_warehouse"

    def __call__(self, *args: Any) -> None:
        pass


class DramatiqLikeActor:
    actor_name = "charge_card"

    def __call__(self, *args: Any) -> None:
        pass


class CallableObject:
    def __call__(self) -> None:
        pass


class Mailer:
    def send(self) -> None:
        pass


def name_of(task: Any) -> str:
    return airlock.Intent(task).name


def test_name_of_a_function() -> None:
    assert name_of(send_email) == "send_email"


def test_name_of_a_lambda() -> None:
    assert name_of(lambda: None) == "<lambda>"


def test_name_of_a_partial_is_its_function_name() -> None:
    assert name_of(functools.partial(send_email, 1)) == "send_email"
    assert name_of(functools.partial(functools.partial(send_email, 1), 2)) == "send_email"


def test_name_of_a_bound_method() -> None:
    assert name_of(Mailer().send) == "send"


def test_name_of_a_string_is_its_last_dotted_part() -> None:
    assert name_of("proj.tasks.send_email") == "send_email"
    assert name_of("send_email") == "send_email"


def test_name_of_an_object_with_a_name_like_a_celery_task() -> None:
    assert name_of(CeleryLikeTask()) == "notify_warehouse"


def test_name_of_an_object_with_an_actor_name_like_a_dramatiq_actor() -> None:
    assert name_of(DramatiqLikeActor()) == "charge_card"


def test_name_of_a_callable_object_without_a_name_is_its_type_name() -> None:
    assert name_of(CallableObject()) == "CallableObject"


def test_name_of_a_mock_task_is_its_type_name() -> None:
    assert name_of(mock.Mock()) == "Mock"
    assert name_of(mock.MagicMock()) == "MagicMock"


def test_a_mock_task_can_be_blocked_logged_and_dispatched(recorder: Recorder) -> None:
    task = mock.Mock()
    with airlock.scope(policy=airlock.BlockTasks("send_email"), executor=recorder):
        airlock.enqueue(task, 1)
    assert recorder.intents[0].task is task
    assert "Mock(1)" in repr(recorder.intents[0])


def test_repr_shows_name_arguments_and_options() -> None:
    intent = airlock.Intent(send_email, (1, "a"), {"user_id": 3}, {"countdown": 5})
    text = repr(intent)
    assert text.startswith("<Intent ")
    assert "send_email(1, 'a', user_id=3)" in text
    assert "countdown" in text


def test_repr_without_arguments_or_options() -> None:
    text = repr(airlock.Intent("proj.tasks.ping"))
    assert "ping()" in text
    assert "options" not in text


def test_intents_compare_by_identity() -> None:
    with airlock.scope(executor=Recorder()) as scope:
        airlock.enqueue(send_email, 1)
        airlock.enqueue(send_email, 1)
    first, second = scope.intents
    assert first != second
    assert len({first, second}) == 2


def test_layered_policies_travel_on_the_intent_outermost_first() -> None:
    outer, inner = airlock.AllowAll(), airlock.AllowAll()
    with airlock.scope(executor=Recorder()) as scope:
        airlock.enqueue(send_email, "bare")
        with airlock.policy(outer):
            airlock.enqueue(send_email, "outer")
            with airlock.policy(inner):
                airlock.enqueue(send_email, "both")
        airlock.enqueue(send_email, "bare again")
    assert [i.local_policies for i in scope.intents] == [(), (outer,), (outer, inner), ()]
