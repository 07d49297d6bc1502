"""The example third-party plugin (examples/airlock-example-plugin), installed for real:
selected by name, listed with its distribution, invisible with autoload off."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from coresupport import run_python, subprocess_env

import airlock

PLUGIN = "example"
EXECUTOR = "example"
DISTRIBUTION = "airlock-example-plugin"
README = Path(__file__).parents[2] / "examples" / "airlock-example-plugin" / "README.md"


def test_the_example_executor_is_selected_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airlock_example_plugin import read_outbox

    outbox = tmp_path / "outbox.jsonl"
    monkeypatch.setenv("AIRLOCK_EXAMPLE_OUTBOX", str(outbox))
    with airlock.scope(executor=EXECUTOR) as scope:
        airlock.enqueue("coresupport.noop", 1, _dispatch_options={"queue": "q"})
        airlock.enqueue("coresupport.noop", 2, flag=True)
        assert read_outbox(outbox) == []
    assert airlock.plugins.lookup("executor", EXECUTOR) is scope.executor
    records = read_outbox(outbox)
    assert [(r["task"], r["args"], r["kwargs"]) for r in records] == [
        ("coresupport.noop", [1], {}),
        ("coresupport.noop", [2], {"flag": True}),
    ]
    assert records[0]["options"] == {"queue": "q"}


def test_the_example_executor_by_configure_and_policies_still_apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airlock_example_plugin import read_outbox

    outbox = tmp_path / "outbox.jsonl"
    monkeypatch.setenv("AIRLOCK_EXAMPLE_OUTBOX", str(outbox))
    airlock.configure(executor=EXECUTOR, policy="dedupe")
    with airlock.scope():
        for _ in range(3):
            airlock.enqueue("coresupport.noop", 1)
    assert len(read_outbox(outbox)) == 1


def test_the_example_plugin_names_its_distribution() -> None:
    assert airlock.plugins.distribution(PLUGIN) == DISTRIBUTION
    assert airlock.plugins.names("executor")[EXECUTOR] == PLUGIN


def test_airlock_plugins_json_lists_the_example_plugin() -> None:
    result = run_python("-m", "airlock", "plugins", "--json")
    assert result.returncode == 0, result.stderr
    (entry,) = [e for e in json.loads(result.stdout) if e["name"] == PLUGIN]
    assert entry["distribution"] == DISTRIBUTION
    assert entry["version"] == "0.1.0"
    assert entry["registers"]["executor"] == [EXECUTOR]
    assert "airlock_register_executors" in entry["hooks"]


def test_airlock_plugins_table_lists_the_example_plugin() -> None:
    result = run_python("-m", "airlock", "plugins")
    assert result.returncode == 0, result.stderr
    (row,) = [r for r in result.stdout.splitlines() if r.split()[0] == PLUGIN]
    assert DISTRIBUTION in row


def test_autoload_off_hides_the_example_plugin() -> None:
    result = run_python(
        "-m",
        "airlock",
        "plugins",
        "--json",
        env=subprocess_env(AIRLOCK_DISABLE_PLUGIN_AUTOLOAD="1"),
    )
    assert result.returncode == 0, result.stderr
    assert [e["name"] for e in json.loads(result.stdout)] == ["core"]


def cells(line: str) -> list[str]:
    """A row of ``airlock plugins``' table: columns are two or more spaces apart."""
    return re.split(r" {2,}", line.strip())


def test_the_readme_shows_what_airlock_plugins_prints() -> None:
    """The README's table is the command's output in a fresh environment (airlock-core and
    the example plugin only): each of its rows is the row the command prints for that
    plugin, and its columns are laid out as the command lays out those rows alone."""
    block = README.read_text().split("$ airlock plugins\n", 1)[1].split("```", 1)[0]
    shown = [cells(line) for line in block.splitlines()]
    command = Path(sys.executable).with_name("airlock")
    result = subprocess.run(
        [str(command), "plugins"],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    header, *rows = [cells(line) for line in result.stdout.splitlines()]
    printed = {row[0]: row for row in rows}
    assert shown[0] == header
    assert [row[0] for row in shown[1:]] == ["core", PLUGIN]
    for row in shown[1:]:
        assert row == printed[row[0]], f"the README's row for {row[0]!r} is out of date"
    widths = [max(len(row[i]) for row in shown) for i in range(len(header))]
    laid_out = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in shown
    ]
    assert block.splitlines() == laid_out
