from django.apps import AppConfig


class DqAppConfig(AppConfig):
    name = "dqapp"

    def ready(self) -> None:
        import airlock_django_q
        from airlock.plugins import register
        from dqapp.tasks import StartedTasks

        airlock_django_q.scope_tasks()
        register(StartedTasks(), name="dq-started-tasks")
