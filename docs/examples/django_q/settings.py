"""The settings airlock-django-q needs (beside django-q2's own Q_CLUSTER)."""

INSTALLED_APPS = [
    "django_q",
    "airlock_django",  # reads AIRLOCK; optional, airlock.configure() works too
    "shop",
]
AIRLOCK = {"EXECUTOR": "django_q"}  # django-q2 tasks are plain functions: choose it
