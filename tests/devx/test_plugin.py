"""The pytest plugin, run the way users run it: inner pytest sessions through pytester."""

from __future__ import annotations

import textwrap

import pytest
from conftest import PLUGIN_ARGS

SHOP = """
import airlock

RAN = []


def reserve_stock(order_id):
    RAN.append(("reserve_stock", order_id))
    return f"reserved {order_id}"


def send_receipt(order_id, *, copy_to=None):
    RAN.append(("send_receipt", order_id))
    return f"receipt {order_id}"


def charge(order_id):
    RAN.append(("charge", order_id))
    airlock.enqueue(send_receipt, order_id)
    return f"charged {order_id}"


def decline(order_id):
    airlock.enqueue(send_receipt, order_id, copy_to="fraud")
    raise ValueError(f"card declined for order {order_id}")


def place_order(order_id):
    airlock.enqueue(reserve_stock, order_id)
    airlock.enqueue(send_receipt, order_id, _dispatch_options={"queue": "emails"})


@airlock.scoped()
def import_orders(order_ids):
    for order_id in order_ids:
        place_order(order_id)


@airlock.scoped()
def broken_import(order_id):
    place_order(order_id)
    raise RuntimeError("bad row")
"""


@pytest.fixture
def shop(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(shop=SHOP)
    return pytester


def run(pytester: pytest.Pytester, tests: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_inner=textwrap.dedent(tests))
    return pytester.runpytest(*PLUGIN_ARGS, "-p", "no:cacheprovider", *args)


def error_block(result: pytest.RunResult, first: str) -> list[str]:
    """The ``E`` lines of the failure whose first line is ``first``, without the prefix."""
    lines = [line[8:] for line in result.outlines if line.startswith("E ")]
    start = lines.index(first)
    end = start + 1
    while end < len(lines) and lines[end].startswith(("Enqueued", "  ", "Nothing")):
        end += 1
    return lines[start:end]


# -- the fixture and the marker --------------------------------------------


def test_default_policy_captures_and_runs_nothing(shop: pytest.Pytester) -> None:
    result = run(
        shop,
        """
        import airlock
        import shop

        def test_place_order(airlock_capture):
            shop.place_order(42)
            assert airlock_capture.names == ["reserve_stock", "send_receipt"]
            assert airlock.get_current_scope() is airlock_capture.scope
            assert repr(airlock_capture.scope.policy) == "DropAll()"

        def test_nothing_ran():
            assert shop.RAN == []
        """,
    )
    result.assert_outcomes(passed=2)


def test_tests_without_the_fixture_see_no_scope(shop: pytest.Pytester) -> None:
    result = run(
        shop,
        """
        import pytest
        import airlock
        import shop

        def test_no_scope():
            assert airlock.get_current_scope() is None
            with pytest.raises(airlock.NoScopeError):
                shop.place_order(1)

        @pytest.mark.airlock(policy="allow_all")
        def test_marker_alone_opens_nothing():
            assert airlock.get_current_scope() is None
        """,
        "--strict-markers",
    )
    result.assert_outcomes(passed=2)


def test_marker_policy_lets_effects_out_after_a_passing_test(shop: pytest.Pytester) -> None:
    result = run(
        shop,
        """
        import pytest
        import airlock
        import shop

        @pytest.mark.airlock(policy=airlock.AllowAll(), executor="sync")
        def test_place_order(airlock_capture):
            shop.place_order(42)
            assert shop.RAN == []  # still buffered while the test runs

        def test_effects_ran_at_teardown():
            assert shop.RAN == [("reserve_stock", 42), ("send_receipt", 42)]
        """,
        "--strict-markers",
    )
    result.assert_outcomes(passed=2)


def test_a_failing_test_discards_its_effects(shop: pytest.Pytester) -> None:
    result = run(
        shop,
        """
        import pytest
        import shop

        @pytest.mark.airlock(policy="allow_all")
        def test_fails(airlock_capture):
            shop.place_order(42)
            assert False, "the test fails"

        def test_nothing_ran():
            assert shop.RAN == []
        """,
    )
    result.assert_outcomes(passed=1, failed=1)


def test_closest_marker_wins(shop: pytest.Pytester) -> None:
    result = run(
        shop,
        """
        import pytest
        import airlock
        import shop

        pytestmark = pytest.mark.airlock(policy=airlock.AssertNoEffects())

        def test_module_policy(airlock_capture):
            with pytest.raises(airlock.PolicyViolation, match="reserve_stock"):
                shop.place_order(1)

        @pytest.mark.airlock(policy="drop_all")
        def test_function_policy(airlock_capture):
            shop.place_order(2)
            airlock_capture.assert_enqueued(shop.reserve_stock, 2)
        """,
    )
    result.assert_outcomes(passed=2)


def test_parametrize_policies_with_marks(shop: pytest.Pytester) -> None:
    result = run(
        shop,
        """
        import pytest
        import airlock
        import shop

        @pytest.mark.parametrize("policy", [
            pytest.param("drop_all", marks=pytest.mark.airlock(policy="drop_all")),
            pytest.param("dedupe", marks=pytest.mark.airlock(policy=airlock.Dedupe)),
        ])
        def test_policy(airlock_capture, policy):
            assert type(airlock_capture.scope.policy).__name__.lower().startswith(policy[:4])
        """,
    )
    result.assert_outcomes(passed=2)


def test_marker_misuse_is_an_error_naming_the_arguments(shop: pytest.Pytester) -> None:
    result = run(
        shop,
        """
        import pytest

        @pytest.mark.airlock("allow_all")
        def test_positional(airlock_capture):
            pass

        @pytest.mark.airlock(polcy="allow_all")
        def test_typo(airlock_capture):
            pass
        """,
    )
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "E *UsageError: @pytest.mark.airlock takes the keyword arguments policy= and"
            " executor=, e.g. @pytest.mark.airlock(policy=airlock.AllowAll());"
            " got args=('allow_all',), unknown=[[]].",
            "E *UsageError: * got args=(), unknown=[[]'polcy'[]].",
        ]
    )


def test_unknown_policy_name_fails_the_setup(shop: pytest.Pytester) -> None:
    result = run(
        shop,
        """
        import pytest

        @pytest.mark.airlock(policy="no_such_policy")
        def test_x(airlock_capture):
            pass
        """,
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["E *UnknownPluginError: *no_such_policy*"])


def test_the_plugin_can_be_turned_off(shop: pytest.Pytester) -> None:
    shop.makepyfile(test_inner="def test_x(airlock_capture):\n    pass\n")
    result = shop.runpytest("-p", "no:airlock.testing")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'airlock_capture' not found*"])


def test_pytest_plugins_declaration_works_alongside_the_entry_point(
    shop: pytest.Pytester,
) -> None:
    shop.makeconftest('pytest_plugins = ["airlock.testing"]\n')
    shop.makepyfile(
        test_inner="def test_x(airlock_capture):\n    assert airlock_capture.intents == []\n"
    )
    result = shop.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


# -- nested scopes the code under test opens -------------------------------


def test_nested_scopes_release_into_the_capture(shop: pytest.Pytester) -> None:
    result = run(
        shop,
        """
        import pytest
        import airlock
        import shop

        def test_scoped_function(airlock_capture):
            shop.import_orders([1, 2])
            assert airlock_capture.names == ["reserve_stock", "send_receipt"] * 2
            assert airlock_capture.scope.own_intents == []
            assert len(airlock_capture.scope.captured_intents) == 4

        def test_failed_scoped_function_discards(airlock_capture):
            with pytest.raises(RuntimeError):
                shop.broken_import(7)
            airlock_capture.assert_nothing_enqueued()

        def test_nested_policy_applies_first(airlock_capture):
            with airlock.scope(policy=airlock.BlockTasks({"send_receipt"})):
                shop.place_order(3)
            airlock_capture.assert_enqueued(shop.reserve_stock, 3)
            airlock_capture.assert_not_enqueued(shop.send_receipt)

        def test_nothing_ran():
            assert shop.RAN == []
        """,
    )
    result.assert_outcomes(passed=4)


# -- assertions that pass --------------------------------------------------


def test_assertions_that_hold(shop: pytest.Pytester) -> None:
    result = run(
        shop,
        """
        from unittest.mock import ANY

        import airlock
        from airlock.testing import call
        import shop

        def test_matching(airlock_capture):
            shop.place_order(42)
            shop.place_order(43)
            airlock.enqueue("shop.send_receipt", 44, copy_to="audit")
            c = airlock_capture
            [first] = c.assert_enqueued(shop.reserve_stock, 42)
            assert first.args == (42,)
            c.assert_enqueued(shop.send_receipt, times=3)
            c.assert_enqueued("send_receipt", times=3)
            c.assert_enqueued("shop.send_receipt", 42, _dispatch_options={"queue": "emails"})
            c.assert_enqueued(shop.send_receipt, 44, copy_to="audit")
            c.assert_enqueued(shop.send_receipt, ANY, copy_to=ANY)
            c.assert_enqueued(shop.reserve_stock, ANY, times=2)
            c.assert_not_enqueued(shop.charge)
            c.assert_not_enqueued(shop.reserve_stock, 44)
            c.assert_not_enqueued(shop.send_receipt, 42, _dispatch_options={"queue": "slow"})
            c.assert_enqueued_in_order([shop.reserve_stock, call(shop.send_receipt, 43)])
            c.assert_enqueued_in_order(["reserve_stock", "reserve_stock", "send_receipt"])
            c.assert_enqueued_in_order(
                [
                    call(shop.reserve_stock, 42),
                    shop.send_receipt,
                    call(shop.reserve_stock, 43),
                    call(shop.send_receipt, 43, _dispatch_options={"queue": "emails"}),
                    call("shop.send_receipt", 44, copy_to="audit"),
                ],
                exact=True,
            )

        def test_empty(airlock_capture):
            airlock_capture.assert_nothing_enqueued()
            airlock_capture.assert_not_enqueued(shop.send_receipt)
            airlock_capture.assert_enqueued(shop.send_receipt, times=0)
            airlock_capture.assert_enqueued_in_order([])
        """,
    )
    result.assert_outcomes(passed=2)


# -- assertions that fail, and exactly what they say -----------------------

FAILING = """
import airlock
from airlock.testing import call
import shop


def test_missing(airlock_capture):
    shop.place_order(42)
    airlock_capture.assert_enqueued(shop.send_receipt, 43)


def test_times(airlock_capture):
    shop.place_order(42)
    shop.place_order(43)
    airlock_capture.assert_enqueued(shop.send_receipt, times=1)


def test_not_enqueued(airlock_capture):
    shop.place_order(42)
    with airlock.policy(airlock.BlockTasks({"send_receipt"})):
        airlock.enqueue(shop.send_receipt, 42, copy_to="audit")
    airlock_capture.assert_not_enqueued("shop.send_receipt")


def test_order(airlock_capture):
    shop.place_order(42)
    airlock_capture.assert_enqueued_in_order([shop.send_receipt, call(shop.reserve_stock, 42)])


def test_exact(airlock_capture):
    shop.place_order(42)
    airlock_capture.assert_enqueued_in_order([shop.reserve_stock], exact=True)


def test_nothing(airlock_capture):
    airlock.enqueue("shop.charge", 5)
    airlock_capture.assert_nothing_enqueued()


def test_empty(airlock_capture):
    airlock_capture.assert_enqueued(shop.charge)
"""


@pytest.fixture
def failures(shop: pytest.Pytester) -> pytest.RunResult:
    result = run(shop, FAILING)
    result.assert_outcomes(failed=7)
    return result


def test_missing_intent_lists_what_was_enqueued(failures: pytest.RunResult) -> None:
    assert error_block(
        failures, "AssertionError: Expected send_receipt(43) to be enqueued, but it was not."
    ) == [
        "AssertionError: Expected send_receipt(43) to be enqueued, but it was not.",
        "Enqueued (2):",
        "  1. <Intent reserve_stock(42)>",
        "  2. <Intent send_receipt(42) options={'queue': 'emails'}>",
    ]
    # The failure points at the test's own line, not into airlock.
    failures.stdout.fnmatch_lines(
        [
            ">       airlock_capture.assert_enqueued(shop.send_receipt, 43)",
            "E       AssertionError: Expected send_receipt(43) to be enqueued, but it was not.",
        ]
    )


def test_wrong_count_marks_the_matches(failures: pytest.RunResult) -> None:
    first = (
        "AssertionError: Expected send_receipt to be enqueued once, but it was enqueued 2 times."
    )
    assert error_block(failures, first) == [
        first,
        "Enqueued (4):",
        "  1. <Intent reserve_stock(42)>",
        "  2. <Intent send_receipt(42) options={'queue': 'emails'}>  <- matches",
        "  3. <Intent reserve_stock(43)>",
        "  4. <Intent send_receipt(43) options={'queue': 'emails'}>  <- matches",
    ]


def test_unexpected_intent_shows_layered_policies(failures: pytest.RunResult) -> None:
    first = (
        "AssertionError: Expected shop.send_receipt not to be enqueued, but it was enqueued"
        " 2 times."
    )
    assert error_block(failures, first) == [
        first,
        "Enqueued (3):",
        "  1. <Intent reserve_stock(42)>",
        "  2. <Intent send_receipt(42) options={'queue': 'emails'}>  <- matches",
        "  3. <Intent send_receipt(42, copy_to='audit')> [layered: BlockTasks(['send_receipt'])]"
        "  <- matches",
    ]


def test_wrong_order_says_which_intent_is_missing(failures: pytest.RunResult) -> None:
    first = (
        "AssertionError: Expected these intents in this order: send_receipt,"
        " reserve_stock(42); found no reserve_stock(42) after send_receipt."
    )
    assert error_block(failures, first) == [
        first,
        "Enqueued (2):",
        "  1. <Intent reserve_stock(42)>",
        "  2. <Intent send_receipt(42) options={'queue': 'emails'}>  <- matches",
    ]


def test_exact_order_lists_everything(failures: pytest.RunResult) -> None:
    first = "AssertionError: Expected exactly these intents, in this order: reserve_stock."
    assert error_block(failures, first) == [
        first,
        "Enqueued (2):",
        "  1. <Intent reserve_stock(42)>",
        "  2. <Intent send_receipt(42) options={'queue': 'emails'}>",
    ]


def test_nothing_expected(failures: pytest.RunResult) -> None:
    first = "AssertionError: Expected nothing to be enqueued."
    assert error_block(failures, first) == [first, "Enqueued (1):", "  1. <Intent charge(5)>"]


def test_empty_capture_says_so(failures: pytest.RunResult) -> None:
    first = "AssertionError: Expected charge to be enqueued, but it was not."
    assert error_block(failures, first) == [first, "Nothing was enqueued."]


# -- run_all -----------------------------------------------------------------


def test_run_all_runs_in_order_and_captures_cascades(shop: pytest.Pytester) -> None:
    result = run(
        shop,
        """
        import airlock
        import shop

        def test_cascade(airlock_capture):
            airlock.enqueue(shop.reserve_stock, 1)
            airlock.enqueue("shop.charge", 1)
            assert airlock_capture.run_all() == ["reserved 1", "charged 1"]
            assert shop.RAN == [("reserve_stock", 1), ("charge", 1)]
            airlock_capture.assert_enqueued(shop.send_receipt, 1)  # enqueued by charge
            assert airlock_capture.run_all() == ["receipt 1"]
            assert airlock_capture.run_all() == []
            assert len(shop.RAN) == 3
        """,
    )
    result.assert_outcomes(passed=1)


def test_run_all_failure_names_the_intent_and_keeps_the_rest(shop: pytest.Pytester) -> None:
    result = run(
        shop,
        """
        import pytest
        import airlock
        import shop

        def test_failure(airlock_capture):
            airlock.enqueue(shop.reserve_stock, 1)
            airlock.enqueue(shop.decline, 2)
            airlock.enqueue(shop.reserve_stock, 3)
            with pytest.raises(airlock.DispatchError) as info:
                airlock_capture.run_all()
            error = info.value
            assert [i.name for i in error.dispatched] == ["reserve_stock"]
            assert [(i.name, type(e).__name__) for i, e in error.failed] == [
                ("decline", "ValueError")
            ]
            assert [i.args for i in error.pending] == [(3,)]
            assert "<Intent decline(2)> failed: ValueError: card declined" in str(error)
            # decline's own enqueue was discarded with its scope
            airlock_capture.assert_not_enqueued(shop.send_receipt)
            assert airlock_capture.run_all() == ["reserved 3"]

        def test_unhandled(airlock_capture):
            airlock.enqueue(shop.decline, 9)
            airlock_capture.run_all()
        """,
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "E *ValueError: card declined for order 9",
            "*The above exception was the direct cause of the following exception*",
            "E *DispatchError: 1 of 1 intents were not dispatched (0 dispatched, 1 failed,"
            " 0 pending). <Intent decline(9)> failed: ValueError: card declined for order 9",
        ]
    )


def test_run_all_applies_layered_policies_once(shop: pytest.Pytester) -> None:
    result = run(
        shop,
        """
        import pytest
        import airlock
        import shop

        @pytest.mark.airlock(policy="allow_all")
        def test_layered(airlock_capture):
            with airlock.policy(airlock.Dedupe()):
                for _ in range(3):
                    airlock.enqueue(shop.reserve_stock, 1)
            with airlock.policy(airlock.BlockTasks({"send_receipt"})):
                airlock.enqueue(shop.send_receipt, 1)
            assert airlock_capture.run_all() == ["reserved 1"]

        def test_teardown_did_not_run_them_again():
            assert shop.RAN == [("reserve_stock", 1)]
        """,
    )
    result.assert_outcomes(passed=2)


def test_teardown_flush_runs_only_what_run_all_did_not(shop: pytest.Pytester) -> None:
    result = run(
        shop,
        """
        import pytest
        import airlock
        import shop

        @pytest.mark.airlock(policy="allow_all")
        def test_partial(airlock_capture):
            airlock.enqueue(shop.reserve_stock, 1)
            airlock_capture.run_all()
            airlock.enqueue(shop.reserve_stock, 2)

        def test_ran_once_each():
            assert shop.RAN == [("reserve_stock", 1), ("reserve_stock", 2)]
        """,
    )
    result.assert_outcomes(passed=2)
