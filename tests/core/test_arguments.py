"""Arguments are checked against the task's signature at ``enqueue()``, as calling it would."""

from __future__ import annotations

import functools
import inspect
from typing import Any

import pytest
from coresupport import Recorder
from hypothesis import given, settings
from hypothesis import strategies as st

import airlock
from airlock import arguments


def send_email(order_id: int, *, template: str = "receipt") -> None:
    pass


def test_an_unexpected_keyword_fails_at_the_call_naming_it() -> None:
    recorder = Recorder()
    with airlock.scope(executor=recorder) as scope:
        airlock.enqueue(send_email, 1)
        with pytest.raises(TypeError, match="unexpected keyword argument 'order_idd'") as caught:
            airlock.enqueue(send_email, order_idd=1)  # type: ignore[call-arg]
        assert isinstance(caught.value, airlock.UsageError)
        assert isinstance(caught.value, airlock.TaskArgumentError)
        assert "send_email" in str(caught.value)
        assert "skip_argument_check" in str(caught.value)
        assert ".. The" not in str(caught.value)
        assert ".. The" not in str(caught.value)
        airlock.enqueue(send_email, 2, template="shipped")  # the scope stays usable
        assert len(scope.intents) == 2  # nothing else lost, nothing half-added
    assert recorder.calls == [
        ("send_email", (1,), {}),
        ("send_email", (2,), {"template": "shipped"}),
    ]


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((), {}, "missing 1 required positional argument: 'order_id'"),
        ((1, 2), {}, "takes 1 positional argument but 2 were given"),
        ((1,), {"order_id": 1}, "got multiple values for argument 'order_id'"),
        ((1,), {"templat": "x"}, "unexpected keyword argument 'templat'"),
    ],
)
def test_each_kind_of_mismatch_is_refused(
    args: tuple[Any, ...], kwargs: dict[str, Any], message: str
) -> None:
    with airlock.scope(executor=Recorder()) as scope:
        with pytest.raises(airlock.TaskArgumentError, match=message):
            airlock.enqueue(send_email, *args, **kwargs)
        assert scope.intents == []


def test_a_shape_that_fit_once_does_not_let_another_shape_through() -> None:
    with airlock.scope(executor=Recorder()):
        airlock.enqueue(send_email, 1)
        airlock.enqueue(send_email, 2)  # same shape: the remembered fit
        with pytest.raises(airlock.TaskArgumentError):
            airlock.enqueue(send_email, 1, 2)  # type: ignore[call-arg]
        with pytest.raises(airlock.TaskArgumentError):
            airlock.enqueue(send_email)  # type: ignore[call-arg]


def test_the_careful_path_checks_too() -> None:
    with airlock.scope(executor=Recorder()):
        with pytest.raises(airlock.TaskArgumentError, match="order_idd"):
            airlock.enqueue(send_email, order_idd=1, _dispatch_options={"queue": "q"})
        with airlock.policy(airlock.AllowAll()), pytest.raises(airlock.TaskArgumentError):
            airlock.enqueue(send_email)  # type: ignore[call-arg]


class Mailer:
    def send(self, order_id: int) -> None:
        pass

    @staticmethod
    def static(order_id: int) -> None:
        pass

    def __call__(self, order_id: int) -> None:
        pass


def test_methods_partials_classes_and_callable_objects_are_checked() -> None:
    mailer = Mailer()
    with airlock.scope(executor=Recorder()) as scope:
        airlock.enqueue(mailer.send, 1)
        airlock.enqueue(Mailer.static, 1)
        airlock.enqueue(mailer, 1)
        airlock.enqueue(functools.partial(send_email, 1), template="x")
        airlock.enqueue(dict, a=1)
        for bad in (
            lambda: airlock.enqueue(mailer.send, 1, 2),
            lambda: airlock.enqueue(Mailer.static),
            lambda: airlock.enqueue(mailer, x=1),
            lambda: airlock.enqueue(functools.partial(send_email, 1), 2),
        ):
            with pytest.raises(airlock.TaskArgumentError):
                bad()
        assert len(scope.intents) == 5


def test_a_bound_method_does_not_keep_its_instance_alive() -> None:
    import gc
    import weakref

    mailer = Mailer()
    alive = weakref.ref(mailer)
    with airlock.scope(executor=Recorder()) as scope:
        airlock.enqueue(mailer.send, 1)
    del mailer, scope
    gc.collect()
    assert alive() is None


def test_a_task_whose_signature_lies_can_be_exempted() -> None:
    def wrapper(*args: Any, **kwargs: Any) -> None:
        pass

    wrapper.__signature__ = inspect.signature(send_email)  # type: ignore[attr-defined]
    with airlock.scope(executor=Recorder()) as scope:
        with pytest.raises(airlock.TaskArgumentError):
            airlock.enqueue(wrapper, "a", "b")
        assert airlock.skip_argument_check(wrapper) is wrapper
        airlock.enqueue(wrapper, "a", "b")
        airlock.enqueue(wrapper, "a", "b")
    assert [i.args for i in scope.intents] == [("a", "b"), ("a", "b")]


def test_builtins_without_a_signature_are_not_checked() -> None:
    with airlock.scope(executor=Recorder()) as scope:
        airlock.enqueue(print, 1, 2, 3, sep="")
    assert len(scope.intents) == 1


def test_tasks_made_on_the_fly_do_not_grow_the_caches_without_bound() -> None:
    with airlock.scope(executor=Recorder()):
        for n in range(arguments.CACHE_SIZE + 10):
            airlock.enqueue(lambda n=n: None)
    assert len(arguments.stubs) <= arguments.CACHE_SIZE
    assert len(arguments.fits) <= arguments.CACHE_SIZE


class Unhashable:
    __hash__ = None  # type: ignore[assignment]

    def __call__(self, n: int) -> None:
        pass


def test_an_unhashable_callable_is_checked_at_every_call() -> None:
    task = Unhashable()
    with airlock.scope(executor=Recorder()) as scope:
        airlock.enqueue(task, 1)
        airlock.enqueue(task, 2)
        with pytest.raises(airlock.TaskArgumentError):
            airlock.enqueue(task)
    assert len(scope.intents) == 2


# Generated signatures: the stub must have the same parameters (names, kinds, which
# have defaults), so that calling it fails exactly when calling the task would.
KINDS = [
    inspect.Parameter.POSITIONAL_ONLY,
    inspect.Parameter.POSITIONAL_OR_KEYWORD,
    inspect.Parameter.VAR_POSITIONAL,
    inspect.Parameter.KEYWORD_ONLY,
    inspect.Parameter.VAR_KEYWORD,
]


@st.composite
def signatures(draw: st.DrawFn) -> inspect.Signature:
    parameters = []
    defaulted = False
    for index, kind in enumerate(KINDS):
        count = 1 if kind in (KINDS[2], KINDS[4]) else 3
        for n in range(draw(st.integers(0, count))):
            default: Any = inspect.Parameter.empty
            if kind in (KINDS[0], KINDS[1]):
                defaulted = defaulted or draw(st.booleans())
                default = object() if defaulted else inspect.Parameter.empty
            elif kind is KINDS[3] and draw(st.booleans()):
                default = object()
            parameters.append(inspect.Parameter(f"p{index}{n}", kind, default=default))
    return inspect.Signature(parameters)


def shape(signature: inspect.Signature) -> list[tuple[str, Any, bool]]:
    return [
        (p.name, p.kind, p.default is not inspect.Parameter.empty)
        for p in signature.parameters.values()
    ]


@settings(max_examples=300, deadline=None)
@given(signatures())
def test_the_stub_has_the_parameters_of_the_signature(signature: inspect.Signature) -> None:
    stub = arguments.compile_stub(signature, "task")
    assert shape(inspect.signature(stub)) == shape(signature)


@settings(max_examples=200, deadline=None)
@given(signatures(), st.integers(0, 4), st.sets(st.sampled_from(["p10", "p30", "x"])))
def test_a_call_that_fits_the_stub_runs_a_function_of_that_signature(
    signature: inspect.Signature, positional: int, keywords: set[str]
) -> None:
    stub = arguments.compile_stub(signature, "task")
    args, kwargs = tuple(range(positional)), dict.fromkeys(keywords, 0)
    try:
        stub(*args, **kwargs)
    except TypeError:
        return
    signature.bind(*args, **kwargs)  # what fits the stub fits the signature
