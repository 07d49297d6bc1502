from django.apps import AppConfig


class AirtestConfig(AppConfig):
    name = "airtest"

    def ready(self) -> None:
        # Load the project's Celery app in every process (tests, manage.py commands),
        # as a real project's __init__.py does by Celery's Django guide.
        import shop_project.celery  # noqa: F401
