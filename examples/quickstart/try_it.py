# Post a signup to the view, as a browser's form would: python manage.py shell < try_it.py
from django.test import Client

response = Client().post("/signup/", {"email": "ada@example.com"}, HTTP_HOST="localhost")
print("signup answered", response.status_code)
