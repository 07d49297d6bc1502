"""The example of docs/integrations/opentelemetry.md runs, and the page shows all of it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples" / "opentelemetry"
PAGE = ROOT / "docs" / "integrations" / "opentelemetry.md"


def test_every_example_is_shown() -> None:
    shown = set(re.findall(r'--8<-- "(docs/examples/opentelemetry/[^":]+)', PAGE.read_text()))
    assert shown == {str(p.relative_to(ROOT)) for p in EXAMPLES.glob("*.py")}


def test_django_celery_example_keeps_one_trace() -> None:
    done = subprocess.run(
        [sys.executable, "django_celery.py"],
        cwd=EXAMPLES,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "POST /orders > airlock flush > process shop.send_receipt > render receipt",
        "POST /orders/durable > airlock flush > process shop.send_receipt > render receipt",
    ]
