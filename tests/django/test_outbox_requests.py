"""Durable requests: under ATOMIC_REQUESTS a request's effects commit with its writes.

In process (Django's test client, PostgreSQL): what the commit holds, seen from another
connection at the moment it happens, and each way a request can end. In processes of
their own (airtest.request_child, on PostgreSQL and on SQLite): SIGKILL right after the
commit, and on the way out between the view and the middleware.
"""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airtest import effects
from airtest.models import Order
from asgiref.sync import async_to_sync
from django.db import connections
from django.http import HttpResponseBase
from django.test import AsyncClient, Client, override_settings
from outbox_stack import project_env, python

from airlock_django.models import OutboxMessage

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "observer"])

TASKS = ["airtest.effects.notify_warehouse", "airtest.effects.send_confirmation"]


@pytest.fixture
def atomic_requests() -> Iterator[None]:
    connection = connections["default"]
    connection.settings_dict["ATOMIC_REQUESTS"] = True
    try:
        with override_settings(
            AIRLOCK={"EXECUTOR": "sync", "SCOPE": "outbox", "OUTBOX": {"TASKS": TASKS}}
        ):
            yield
    finally:
        connection.settings_dict["ATOMIC_REQUESTS"] = False


def statuses() -> list[str]:
    return [row.get_status_display() for row in OutboxMessage.objects.order_by("id")]


def test_the_effects_rows_are_in_the_views_commit(atomic_requests: None, client: Client) -> None:
    response = client.get("/checkout/?witness=1")
    assert response.status_code == 200
    # seen from another connection right after the COMMIT: the order and both rows
    assert effects.WITNESSED == [(1, 2)]
    assert statuses() == ["delivered", "delivered"]
    assert [name for name, _, committed in effects.SENT if committed] == [
        "notify_warehouse",
        "send_confirmation",
    ]


def test_in_the_async_stack_too(atomic_requests: None) -> None:
    async def get() -> HttpResponseBase:
        return await AsyncClient().get("/checkout/?witness=1")

    response = async_to_sync(get)()
    assert response.status_code == 200
    assert effects.WITNESSED == [(1, 2)]
    assert statuses() == ["delivered", "delivered"]


def test_a_view_that_opts_out_keeps_its_own_transaction(
    atomic_requests: None, client: Client
) -> None:
    assert client.get("/checkout/not-atomic/").status_code == 200
    assert effects.WITNESSED == [(1, 0)]  # its commit came first; the rows followed
    assert statuses() == ["delivered", "delivered"]


@pytest.mark.parametrize(
    ("query", "status", "orders"),
    [
        ("?status=400", 400, 1),  # the view's writes commit; its effects are discarded
        ("?outcome=404", 404, 0),
        ("?outcome=raise", 500, 0),
        ("?outcome=recoverable", 200, 0),  # an exception turned into a response upstream
    ],
)
def test_a_request_that_fails_stores_no_rows(
    atomic_requests: None, client: Client, query: str, status: int, orders: int
) -> None:
    client.raise_request_exception = False
    assert client.get(f"/checkout/{query}").status_code == status
    assert Order.objects.count() == orders
    assert statuses() == []
    assert effects.SENT == []


def test_set_rollback_in_the_view_stores_nothing(atomic_requests: None, client: Client) -> None:
    assert client.get("/checkout/rollback/").status_code == 200
    assert Order.objects.count() == 0
    assert statuses() == []


def test_effects_it_cannot_store_roll_the_request_back(
    atomic_requests: None, client: Client
) -> None:
    """No committed order without its rows: the flush fails inside the transaction."""
    client.raise_request_exception = False
    with override_settings(
        AIRLOCK={"EXECUTOR": "sync", "SCOPE": "outbox", "OUTBOX": {"TASKS": TASKS[:1]}}
    ):
        assert client.get("/checkout/").status_code == 500
    assert Order.objects.count() == 0
    assert statuses() == []
    assert effects.SENT == []


# -- SIGKILL, in processes of their own ------------------------------------------------


def project_environment(**extra: str) -> dict[str, str]:
    return project_env(
        "memory://",
        "redis://127.0.0.1:1/0",
        "unused",
        DJANGO_SETTINGS_MODULE="airtest.request_settings",
        AIRTEST_EXECUTOR="sync",
        **extra,
    )


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file with the project's tables, made once; each test works on a copy."""
    path = tmp_path_factory.mktemp("sqlite") / "migrated.sqlite3"
    done = python(project_environment(AIRTEST_SQLITE=str(path)), "-m", "django", "migrate")
    assert done.returncode == 0, done.stderr
    return path


class Project:
    """The request_settings project on one database: run a request, the relay; read back."""

    def __init__(self, engine: str, tmp_path: Path, migrated_sqlite: Path) -> None:
        self.engine = engine
        self.env = project_environment()
        self.sqlite = tmp_path / "project.sqlite3"
        if engine == "sqlite":
            shutil.copyfile(migrated_sqlite, self.sqlite)
            self.env["AIRTEST_SQLITE"] = str(self.sqlite)

    def request(self, path: str) -> None:
        done = python(self.env, "-m", "airtest.request_child", path)
        assert done.returncode == -signal.SIGKILL, done.stderr

    def relay(self) -> str:
        done = python(self.env, "-m", "django", "airlock_relay", "--once")
        assert done.returncode == 0, done.stderr
        return done.stdout

    def state(self, customer: str) -> dict[str, Any]:
        """The shop's orders, the outbox rows and the effects that ran, for ``customer``."""
        queries = {
            "orders": ("SELECT id FROM shop_order WHERE customer = %s", [customer]),
            "rows": ("SELECT task, status, payload FROM airlock_outbox ORDER BY id", []),
            "effects": ("SELECT task, order_id FROM shop_effect ORDER BY id", []),
        }
        found: dict[str, Any] = {}
        if self.engine == "sqlite":
            with sqlite3.connect(self.sqlite) as database:
                for name, (sql, params) in queries.items():
                    found[name] = database.execute(sql.replace("%s", "?"), params).fetchall()
        else:
            with connections["default"].cursor() as cursor:
                for name, (sql, params) in queries.items():
                    cursor.execute(sql, params)
                    found[name] = [tuple(row) for row in cursor.fetchall()]
        found["rows"] = [
            (task, status, json.loads(payload)["kwargs"]) for task, status, payload in found["rows"]
        ]
        return found


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["postgres", "sqlite"])
def test_sigkill_after_the_commit_the_row_is_there_and_the_relay_delivers_it(
    engine: str, tmp_path: Path, migrated_sqlite: Path, outbox_figures: list[dict[str, Any]]
) -> None:
    project = Project(engine, tmp_path, migrated_sqlite)
    project.request(f"/checkout/then-die/?at=commit&customer=kill-{engine}")
    state = project.state(f"kill-{engine}")
    ((order,),) = state["orders"]
    tasks = ["shop.tasks.notify_warehouse", "shop.tasks.send_confirmation"]
    assert state["rows"] == [(task, 0, {"order_id": order}) for task in tasks]  # pending
    assert state["effects"] == []  # died before the fast path

    assert "2 delivered" in project.relay()
    state = project.state(f"kill-{engine}")
    assert [status for _, status, _ in state["rows"]] == [1, 1]
    assert state["effects"] == [("notify_warehouse", order), ("send_confirmation", order)]
    outbox_figures.append(
        {
            "scenario": f"SIGKILL after an ATOMIC_REQUESTS commit ({engine})",
            "trials": 1,
            "committed": 2,
            "delivered": len(state["effects"]),
            "duplicates": 0,
        }
    )


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["postgres", "sqlite"])
def test_sigkill_between_the_view_and_the_middleware_keeps_writes_and_rows_together(
    engine: str, tmp_path: Path, migrated_sqlite: Path, outbox_figures: list[dict[str, Any]]
) -> None:
    project = Project(engine, tmp_path, migrated_sqlite)
    project.request(f"/checkout/then-die/?at=unwind&customer=unwind-{engine}")
    # the view returned, the middleware had not committed: neither the order nor its rows
    assert project.state(f"unwind-{engine}") == {"orders": [], "rows": [], "effects": []}
    assert "0 claimed" in project.relay()
    outbox_figures.append(
        {
            "scenario": f"SIGKILL between view and middleware ({engine})",
            "trials": 1,
            "committed": 0,
            "delivered": 0,
            "duplicates": 0,
            "rolled_back": 2,
        }
    )
