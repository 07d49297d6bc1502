from celery import shared_task
from django.utils import timezone

from signups.models import Signup


@shared_task
def send_welcome_email(signup_id):
    # Runs on the worker once the request's transaction has committed,
    # so the row is there to read.
    signup = Signup.objects.get(pk=signup_id)
    print(f"Welcome email to {signup.email}")  # your mail provider's API call goes here
    signup.welcomed_at = timezone.now()
    signup.save(update_fields=["welcomed_at"])
