"""Django tasks (django.tasks, Django >= 6.0) for the django_tasks executor tests."""

import django

if django.VERSION >= (6, 0):
    from django.tasks import task

    @task
    def send_receipt(order_id: int) -> int:
        return order_id

    @task(queue_name="emails")
    def send_newsletter(user_id: int) -> int:
        return user_id
