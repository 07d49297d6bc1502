"""The README's first command: the checkout walkthrough runs and every section holds."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

DEMO = Path(__file__).parents[2] / "examples" / "checkout" / "checkout.py"


def test_checkout_demo_sections_all_hold(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("checkout_demo", DEMO)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main() == 0
    report = capsys.readouterr().out
    for word in ("DropAll", "BlockTasks", "Dedupe", "discarded"):
        assert word in report
