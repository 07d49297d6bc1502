import pytest

from signups.models import Signup
from signups.tasks import send_welcome_email


@pytest.mark.django_db
def test_a_signup_enqueues_the_welcome_email(client, airlock_capture):
    response = client.post("/signup/", {"email": "ada@example.com"})

    assert response.status_code == 201
    signup = Signup.objects.get()
    airlock_capture.assert_enqueued(send_welcome_email, signup.id)
    assert signup.welcomed_at is None  # captured, not run: no broker, no worker


@pytest.mark.django_db
def test_the_welcome_email_goes_to_the_new_address(client, airlock_capture, capsys):
    client.post("/signup/", {"email": "ada@example.com"})

    airlock_capture.run_all()  # run the captured tasks here, in order

    assert capsys.readouterr().out == "Welcome email to ada@example.com\n"
    assert Signup.objects.get().welcomed_at is not None


@pytest.mark.django_db
def test_an_invalid_address_enqueues_nothing(client, airlock_capture):
    response = client.post("/signup/", {"email": "not an address"})

    assert response.status_code == 400
    airlock_capture.assert_nothing_enqueued()
