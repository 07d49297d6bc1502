"""Every example of docs/integrations/django-q.md runs here."""

from __future__ import annotations

import importlib
import re
import runpy
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import ROOT, Cluster
from django_q.models import OrmQ, Task
from django_q.signing import SignedPackage

import airlock_django_q

EXAMPLES = ROOT / "docs" / "examples" / "django_q"
PAGE = ROOT / "docs" / "integrations" / "django-q.md"


@pytest.fixture
def examples() -> Iterator[None]:
    sys.path.insert(0, str(EXAMPLES))
    yield
    sys.path.remove(str(EXAMPLES))
    for name in ("publish", "apps"):
        sys.modules.pop(name, None)


def test_every_snippet_exists_and_every_example_is_shown() -> None:
    shown = set(re.findall(r'--8<-- "(docs/examples/django_q/[^"]+)"', PAGE.read_text()))
    on_disk = {str(p.relative_to(ROOT)) for p in EXAMPLES.glob("*.py")}
    assert shown == on_disk


def test_settings_example_selects_the_executor() -> None:
    settings = runpy.run_path(str(EXAMPLES / "settings.py"))
    assert settings["AIRLOCK"] == {"EXECUTOR": "django_q"}
    assert {"django_q", "airlock_django"} <= set(settings["INSTALLED_APPS"])


def test_apps_example_turns_scoping_on(examples: None) -> None:
    module = types.ModuleType("shop")
    module.__file__ = str(EXAMPLES / "apps.py")
    config = importlib.import_module("apps").ShopConfig("shop", module)
    assert airlock_django_q.unscope_tasks() is True
    config.ready()
    assert airlock_django_q.unscope_tasks() is True  # ready() connected it again
    airlock_django_q.scope_tasks()


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_publish_and_worker_scoping_examples(orm_cluster: Cluster, examples: None) -> None:
    publish: Any = importlib.import_module("publish")
    publish.place_order(5, 7)
    publish.place_order(-1, 8)
    for name in ("welcome-7", "ship-5", "welcome-8"):
        orm_cluster.wait_for_row(name)
    assert Task.objects.get(name="welcome-7").result == "email to user 7"
    assert Task.objects.get(name="ship-5").result == "warehouse notified of order 5"
    orders = Task.objects.filter(group="orders")
    orm_cluster.wait_until(lambda: orders.count() == 2, "record of both orders")
    processed = {task.args: task for task in orders}
    assert processed[(5,)].success
    assert processed[(5,)].result == "order 5 processed"
    assert not processed[(-1,)].success  # and what it enqueued was discarded:
    queued = [SignedPackage.loads(row.payload)["name"] for row in OrmQ.objects.all()]
    assert "ship--1" not in queued
    assert not Task.objects.filter(name="ship--1").exists()
