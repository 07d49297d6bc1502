"""Quickstart suite: the Django + Celery project of docs/quickstart.md, run as its page says.

Everything runs in subprocesses, from a copy of examples/quickstart/ in a temporary
directory: the project's own pytest run, ``manage.py`` commands and a real Celery worker on
Redis (database 11 of AIRLOCK_TEST_REDIS_URL).
"""
