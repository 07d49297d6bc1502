"""The flake8 rule: the checker on its own, then through the real flake8."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest
from conftest import flake8_config, run_flake8

from airlock.lint import RULES, Checker, is_executor_code, module_name


def findings(source: str, filename: str = "shop/views.py") -> list[tuple[int, int, str]]:
    tree = ast.parse(textwrap.dedent(source))
    return sorted(
        (line, col, message[:6]) for line, col, message, _ in Checker(tree, filename).run()
    )


def test_each_dispatch_call_is_flagged_at_its_method_name() -> None:
    assert findings(
        """
        send_receipt.delay(1)
        send_receipt.apply_async(args=(1,), countdown=60)
        ship_parcel.send(1)
        ship_parcel.send_with_options(args=(1,), delay=1000)
        queue.enqueue(send_receipt, 1)
        Queue("emails", connection=redis).enqueue_call(send_receipt, args=(1,))
        queue.enqueue_in(timedelta(minutes=5), send_receipt, 1)
        """
    ) == [
        (2, 13, "ALK001"),
        (3, 13, "ALK002"),
        (4, 12, "ALK003"),
        (5, 12, "ALK003"),
        (6, 6, "ALK004"),
        (7, 34, "ALK004"),
        (8, 6, "ALK004"),
    ]


def test_celery_on_commit_helpers_are_flagged_too() -> None:
    assert findings(
        """
        send_receipt.delay_on_commit(1)
        send_receipt.apply_async_on_commit(args=(1,), countdown=60)
        """
    ) == [(2, 13, "ALK005"), (3, 13, "ALK005")]
    (_, message) = RULES["delay_on_commit"]
    assert "airlock.enqueue" in message
    assert "outbox" in message


def test_chained_and_multiline_calls_point_at_the_method_line() -> None:
    assert findings(
        """
        result = (
            chain(reserve.s(1), charge.s())
            .apply_async()
        )
        reserve.s(1).delay()
        """
    ) == [(4, 5, "ALK002"), (6, 13, "ALK001")]


def test_what_is_not_a_direct_dispatch() -> None:
    assert (
        findings(
            """
            import airlock

            airlock.enqueue(send_receipt, 1)
            enqueue(send_receipt, 1)
            post_save.send(sender=Order, instance=order)
            send_receipt.delay
            sock.sendall(data)


            class Shim(Task):
                def delay(self, *args, **kwargs):
                    return super().delay(*args, **kwargs)

                def apply_async(self, *args, **kwargs):
                    return super(Shim, self).apply_async(*args, **kwargs)
            """
        )
        == []
    )


def test_messages_point_to_airlock_enqueue() -> None:
    for code, message in RULES.values():
        assert code.startswith("ALK00")
        assert "airlock.enqueue(" in message
    [(_, _, message, checker)] = Checker(ast.parse("t.apply_async(args=(1,))"), "x.py").run()
    assert message == (
        "ALK002 direct Celery .apply_async() call; use airlock.enqueue(task, *args,"
        " _dispatch_options={...}, **kwargs)"
    )
    assert checker is Checker
    assert Checker.name == "airlock"


def make_package(root: Path, dotted: str, source: str = "task.delay(1)\n") -> Path:
    """Write ``dotted`` as a module inside packages (every directory gets an __init__.py)."""
    *packages, module = dotted.split(".")
    directory = root
    for package in packages:
        directory = directory / package
        directory.mkdir(exist_ok=True)
        (directory / "__init__.py").touch()
    path = directory / f"{module}.py"
    path.write_text(source)
    return path


def test_module_name_follows_packages_up_to_the_first_plain_directory(tmp_path: Path) -> None:
    plain = tmp_path / "executor_checkout"  # not a package: not part of the name
    plain.mkdir()
    path = make_package(plain, "shop.payments.views")
    assert module_name(str(path)) == "shop.payments.views"
    assert module_name(str(path.parent / "__init__.py")) == "shop.payments"
    assert not is_executor_code(str(path))


@pytest.mark.parametrize(
    ("dotted", "skipped"),
    [
        ("shop.executors", True),
        ("shop.executors.celery", True),
        ("shop.celery_executor", True),
        ("shop.Executor", True),
        ("airlock_celery.intercept", True),
        ("airlock.integrations.bridge", True),
        ("shop.views", False),
        ("shop.airlock_helpers", False),
        ("airlock_script", False),
    ],
)
def test_executor_code_is_skipped(tmp_path: Path, dotted: str, skipped: bool) -> None:
    path = make_package(tmp_path, dotted)
    assert is_executor_code(str(path)) is skipped
    assert len(list(Checker(ast.parse(path.read_text()), str(path)).run())) == (0 if skipped else 1)


def test_stdin_is_checked() -> None:
    assert findings("task.delay()", filename="stdin") == [(1, 5, "ALK001")]


# -- through flake8 ----------------------------------------------------------

SAMPLE = """\
from shop.tasks import queue, send_receipt


def mark_paid(order_id):
    send_receipt.delay(order_id)
    send_receipt.apply_async(args=(order_id,))  # noqa: ALK002
    queue.enqueue(send_receipt, order_id)  # noqa
    (
        chain(send_receipt.s(order_id), archive.s())
        .apply_async()  # noqa: ALK002 (the noqa goes on the method's line)
    )
    (  # noqa: ALK002 (not here: this line has no finding)
        chain(send_receipt.s(order_id), archive.s())
        .apply_async()
    )
"""


def test_flake8_reports_and_honours_noqa(tmp_path: Path) -> None:
    (tmp_path / "setup.cfg").write_text(flake8_config())
    make_package(tmp_path, "shop.views", SAMPLE)
    result = run_flake8(tmp_path, "--select", "ALK", "shop")
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines() == [
        "shop/views.py:5:18: ALK001 direct Celery .delay() call; use airlock.enqueue(task,"
        " *args, **kwargs) so the scope decides when it runs",
        "shop/views.py:14:10: ALK002 direct Celery .apply_async() call; use airlock.enqueue(task,"
        " *args, _dispatch_options={...}, **kwargs)",
    ]


def test_flake8_skips_executor_modules_and_honours_per_file_ignores(tmp_path: Path) -> None:
    (tmp_path / "tox.ini").write_text(flake8_config("per-file-ignores = shop/scripts/*: ALK001\n"))
    make_package(tmp_path, "shop.executors.celery", SAMPLE)
    make_package(tmp_path, "shop.scripts.backfill", "task.delay(1)\n")
    make_package(tmp_path, "shop.signals", "order_paid.send(sender=Order)\nactor.send(1)\n")
    result = run_flake8(tmp_path, "--select", "ALK", "shop")
    assert result.stdout.splitlines() == [
        "shop/signals.py:2:7: ALK003 direct Dramatiq .send() call; use airlock.enqueue(task,"
        " *args, **kwargs) so the scope decides when it runs"
    ], result.stderr


def test_flake8_on_clean_code_exits_zero(tmp_path: Path) -> None:
    (tmp_path / ".flake8").write_text(flake8_config())
    make_package(tmp_path, "shop.views", "import airlock\n\nairlock.enqueue(task, 1)\n")
    result = run_flake8(tmp_path, "--select", "ALK", "shop")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
