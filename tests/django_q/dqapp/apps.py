from django.apps import AppConfig


class DqAppConfig(AppConfig):
    name = "dqapp"

    def ready(self) -> None:
        import airlock_django_q

        airlock_django_q.scope_tasks()
