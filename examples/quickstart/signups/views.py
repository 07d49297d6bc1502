from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpResponse, HttpResponseBadRequest
from django.views.decorators.http import require_POST

import airlock
from signups.models import Signup
from signups.tasks import send_welcome_email


@require_POST
def signup(request):
    email = request.POST.get("email", "")
    try:
        validate_email(email)
    except ValidationError:
        return HttpResponseBadRequest("not an email address")
    signup = Signup.objects.create(email=email)
    # Not sent yet: the request's scope holds it until the response is a success.
    airlock.enqueue(send_welcome_email, signup.id)
    return HttpResponse(status=201)
