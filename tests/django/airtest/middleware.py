import os
import signal

from django.http import HttpResponse


class RecoverableError(Exception):
    """A view raises it; FriendlyErrors turns it into a 200 page."""


class FriendlyErrors:
    """Listed above AirlockMiddleware: turns RecoverableError into a friendly 200 response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, RecoverableError):
            return HttpResponse("we will get back to you", status=200)
        return None


class DieOnTheWayOut:
    """Listed below AirlockMiddleware in airtest.request_settings: SIGKILLs this process when
    a response passes whose view asked for it, after the view returned and before
    AirlockMiddleware ends the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "airtest_die", False):
            os.kill(os.getpid(), signal.SIGKILL)
        return response
