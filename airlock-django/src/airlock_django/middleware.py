"""``AirlockMiddleware``: one scope per request, flushed only for a response that succeeded.

With the outbox and ``ATOMIC_REQUESTS``, the request's transaction is opened
here (in ``process_view``, for exactly the views Django would make atomic) and
committed after the scope has flushed, so that the effects' rows are part of
the same commit as the view's writes. Django's own atomic block around the
view then becomes a savepoint inside it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import got_request_exception
from django.db import connections, transaction
from django.http import HttpRequest, HttpResponseBase

import airlock
from airlock import DispatchError, Scope
from airlock_django.outbox import OutboxScope

logger = logging.getLogger("airlock_django")

#: Attribute set on a request once an exception was raised while handling it.
EXCEPTION_ATTRIBUTE = "_airlock_exception"
#: Attribute holding the request's scope, for ``process_view``.
SCOPE_ATTRIBUTE = "_airlock_scope"
#: Attribute holding the atomic block the middleware opened for the request, if any.
TRANSACTION_ATTRIBUTE = "_airlock_transaction"


def _remember_exception(sender: object, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """``got_request_exception`` receiver: Django is turning an exception into a response."""
    if request is not None and getattr(request, EXCEPTION_ATTRIBUTE, None) is None:
        setattr(request, EXCEPTION_ATTRIBUTE, True)


got_request_exception.connect(_remember_exception, dispatch_uid="airlock_django.middleware")


class AirlockMiddleware:
    """Open one airlock scope per request; flush it on success, discard it otherwise.

    The scope is ``airlock.scope()``, so with the app installed it is a
    ``DjangoScope`` configured from ``settings.AIRLOCK``. The effects go when
    the response is 1xx-3xx and no exception was raised while handling the
    request; a 4xx/5xx response, an exception that propagates, and an
    exception that Django or another middleware turned into a response
    (``got_request_exception``, ``process_exception``) all discard them.
    Override ``should_flush(request, response)`` to decide otherwise, and
    ``dispatch_failed(request, response, error)`` to change what a failing
    dispatch does to the response (by default: nothing, the failure is logged
    and reported through the ``airlock_dispatch_failed`` hook).

    Works in sync and async stacks. In the async stack the flush runs in
    Django's sync thread (``sync_to_async``), next to the ORM.

    When the scope is an ``OutboxScope`` and its database has
    ``ATOMIC_REQUESTS``, the request's transaction is the middleware's own:
    opened before the view (unless the view is ``non_atomic_requests``),
    committed after the flush has written the rows, so the view's writes and
    its effects commit together; an exception that propagates rolls it back,
    and so does a flush that cannot store the effects (the error propagates).
    """

    sync_capable = True
    async_capable = True

    def __init__(
        self,
        get_response: Callable[[HttpRequest], HttpResponseBase]
        | Callable[[HttpRequest], Awaitable[HttpResponseBase]],
    ) -> None:
        if not apps.is_installed("airlock_django"):
            raise ImproperlyConfigured(
                "AirlockMiddleware needs the airlock app: add 'airlock.integrations.django'"
                " to INSTALLED_APPS, so that settings.AIRLOCK is applied (airlock.E010)."
            )
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        """Handle ``request`` inside its scope (a coroutine in the async stack)."""
        if self.async_mode:
            return self.__acall__(request)
        scope = self.open_scope(request).enter()
        setattr(request, SCOPE_ATTRIBUTE, scope)
        try:
            response: HttpResponseBase = self.get_response(request)  # type: ignore[assignment]
        except BaseException as error:
            self._close(scope, request, None)
            _end_transaction(request, error)
            raise
        if not self._close(scope, request, response):
            _end_transaction(request, None)
            return response
        try:
            scope.flush()
        except DispatchError as error:
            if _end_transaction(request, error):
                raise
            return self.dispatch_failed(request, response, error)
        except BaseException as error:
            _end_transaction(request, error)
            raise
        _end_transaction(request, None)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        scope = self.open_scope(request).enter()
        setattr(request, SCOPE_ATTRIBUTE, scope)
        end = sync_to_async(_end_transaction, thread_sensitive=True)
        try:
            response: HttpResponseBase = await self.get_response(request)  # type: ignore[misc]
        except BaseException as error:
            self._close(scope, request, None)
            await end(request, error)
            raise
        if not self._close(scope, request, response):
            await end(request, None)
            return response
        try:
            await sync_to_async(scope.flush, thread_sensitive=True)()
        except DispatchError as error:
            if await end(request, error):
                raise
            return self.dispatch_failed(request, response, error)
        except BaseException as error:
            await end(request, error)
            raise
        await end(request, None)
        return response

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> None:
        """Open the request's transaction here when the outbox must write into it.

        Only for an ``OutboxScope`` whose database has ``ATOMIC_REQUESTS``, and
        only for a view Django would make atomic: not one marked
        ``non_atomic_requests`` for that database, not an async view (Django
        refuses those under ``ATOMIC_REQUESTS``).
        """
        scope = getattr(request, SCOPE_ATTRIBUTE, None)
        if not isinstance(scope, OutboxScope) or getattr(request, TRANSACTION_ATTRIBUTE, None):
            return
        alias = scope.using
        if not connections[alias].settings_dict.get("ATOMIC_REQUESTS"):
            return
        # Django's own marker of transaction.non_atomic_requests, as make_view_atomic reads it
        if alias in getattr(view_func, "_non_atomic_requests", set()):
            return
        if iscoroutinefunction(view_func):
            return
        block = transaction.atomic(using=alias)
        block.__enter__()
        setattr(request, TRANSACTION_ATTRIBUTE, block)

    def _close(self, scope: Scope, request: HttpRequest, response: HttpResponseBase | None) -> bool:
        """Leave the request's scope; discard it and return False unless it should flush.

        ``response`` is ``None`` when the view (or a later middleware) raised.
        """
        scope.exit()
        if response is None or not self.should_flush(request, response):
            scope.discard()
            return False
        return True

    def open_scope(self, request: HttpRequest) -> Scope:
        """The scope for ``request`` (not yet entered): ``airlock.scope()`` by default."""
        return airlock.scope()

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        """Note that the view raised, even if some middleware turns it into a response."""
        setattr(request, EXCEPTION_ATTRIBUTE, True)

    def should_flush(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        """Flush for a 1xx-3xx response to a request that raised no exception."""
        if getattr(request, EXCEPTION_ATTRIBUTE, None) is not None:
            return False
        return 100 <= response.status_code < 400

    def dispatch_failed(
        self, request: HttpRequest, response: HttpResponseBase, error: DispatchError
    ) -> HttpResponseBase:
        """Called when the flush raised ``DispatchError``; return the response to send.

        The request's database work is committed and the failure is already
        logged and reported through ``airlock_dispatch_failed``; by default the
        response goes out unchanged.
        """
        return response


def _end_transaction(request: HttpRequest, error: BaseException | None) -> bool:
    """Commit the transaction ``process_view`` opened, or roll it back after ``error``.

    Returns whether there was one.
    """
    block: Any = getattr(request, TRANSACTION_ATTRIBUTE, None)
    if block is None:
        return False
    setattr(request, TRANSACTION_ATTRIBUTE, None)
    if error is None:
        block.__exit__(None, None, None)
    else:
        block.__exit__(type(error), error, error.__traceback__)
    return True
