"""Turn on worker-side scoping where every cluster process runs it: an AppConfig."""

from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"

    def ready(self) -> None:
        import airlock_django_q

        airlock_django_q.scope_tasks()  # each task the cluster runs is a scope
