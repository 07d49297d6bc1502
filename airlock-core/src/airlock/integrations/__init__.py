"""Compatibility paths: the import paths of the original airlock library.

Each module forwards to the distribution that holds the code:
``airlock.integrations.celery`` to airlock-celery,
``airlock.integrations.django`` to airlock-django, and so on. Importing one
whose distribution is missing raises ``ImportError`` saying what to
``pip install``.
"""
