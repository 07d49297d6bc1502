"""The demo shop's Django project; its Celery app loads with it, as Celery's Django guide says."""

from shop_project.celery import app as celery_app

__all__ = ["celery_app"]
