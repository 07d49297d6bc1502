"""AirlockMiddleware through Django's test client (sync and async), on PostgreSQL."""

from __future__ import annotations

import pytest
from airtest import effects
from asgiref.sync import async_to_sync
from django.db import connections
from django.http import HttpRequest, HttpResponseBase
from django.test import AsyncClient, Client, override_settings

import airlock
from airlock_django import AirlockMiddleware

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "observer"])


@pytest.fixture(params=[False, True], ids=["autocommit", "atomic_requests"])
def atomic_requests(request: pytest.FixtureRequest):
    connection = connections["default"]
    previous = connection.settings_dict["ATOMIC_REQUESTS"]
    connection.settings_dict["ATOMIC_REQUESTS"] = request.param
    yield request.param
    connection.settings_dict["ATOMIC_REQUESTS"] = previous


@pytest.mark.parametrize("query", ["", "?status=201", "?outcome=redirect", "?status=102"])
def test_success_flushes_after_commit(client: Client, atomic_requests: bool, query: str) -> None:
    client.get(f"/checkout/{query}")
    assert [(name, seen) for name, _, seen in effects.SENT] == [
        ("notify_warehouse", True),
        ("send_confirmation", True),
    ]


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("?status=400", 400),
        ("?status=503", 503),
        ("?outcome=404", 404),
        ("?outcome=raise", 500),
    ],
)
def test_failure_discards(client: Client, atomic_requests: bool, query: str, status: int) -> None:
    client.raise_request_exception = False
    assert client.get(f"/checkout/{query}").status_code == status
    assert effects.SENT == []


def test_exception_turned_into_success_by_another_middleware_discards(client: Client) -> None:
    response = client.get("/checkout/?outcome=recoverable")
    assert response.status_code == 200
    assert response.content == b"we will get back to you"
    assert effects.SENT == []


def test_exception_propagating_through_the_middleware_discards(client: Client) -> None:
    with override_settings(DEBUG_PROPAGATE_EXCEPTIONS=True), pytest.raises(RuntimeError):
        client.get("/checkout/?outcome=raise")
    assert effects.SENT == []


def test_savepoint_rolled_back_inside_the_view(client: Client, atomic_requests: bool) -> None:
    kept = int(client.get("/checkout/partial/").content)
    assert [
        ("notify_warehouse", kept, True),
        ("send_confirmation", kept, True),
    ] == effects.SENT


def test_set_rollback_under_atomic_requests_dispatches_nothing(client: Client) -> None:
    connection = connections["default"]
    connection.settings_dict["ATOMIC_REQUESTS"] = True
    try:
        assert client.get("/checkout/rollback/").status_code == 200
    finally:
        connection.settings_dict["ATOMIC_REQUESTS"] = False
    assert effects.SENT == []


def test_dispatch_failure_is_logged_and_the_response_stands(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    assert client.get("/failing-effect/").status_code == 200
    assert any("1 failed, 1 pending" in r.getMessage() for r in caplog.records)


def fetch(async_client: AsyncClient, path: str) -> HttpResponseBase:
    """GET through the ASGI handler (the async middleware stack) from a sync test."""

    async def get() -> HttpResponseBase:
        return await async_client.get(path)

    return async_to_sync(get)()


def test_async_stack_flushes_on_success(async_client: AsyncClient) -> None:
    response = fetch(async_client, "/checkout/async/")
    assert response.status_code == 200
    assert [(name, seen) for name, _, seen in effects.SENT] == [
        ("notify_warehouse", True),
        ("send_confirmation", True),
    ]


@pytest.mark.parametrize("query", ["?status=409", "?outcome=raise"])
def test_async_stack_discards_on_failure(async_client: AsyncClient, query: str) -> None:
    async_client.raise_request_exception = False
    response = fetch(async_client, f"/checkout/async/{query}")
    assert response.status_code >= 400
    assert effects.SENT == []


class FlushOn404(AirlockMiddleware):
    def should_flush(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        return response.status_code in (200, 404)


def test_should_flush_can_be_overridden(client: Client) -> None:
    with override_settings(MIDDLEWARE=["test_django_middleware.FlushOn404"]):
        client.get("/checkout/?outcome=404")
    assert effects.sent() == ["notify_warehouse", "send_confirmation"]


def test_middleware_without_the_app_is_improperly_configured(client: Client) -> None:
    from django.core.exceptions import ImproperlyConfigured

    with (
        override_settings(INSTALLED_APPS=["airtest"]),
        pytest.raises(ImproperlyConfigured, match=r"INSTALLED_APPS.*airlock\.E010"),
    ):
        client.get("/checkout/")
    assert airlock.get_current_scope() is None
