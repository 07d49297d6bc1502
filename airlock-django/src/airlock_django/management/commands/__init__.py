"""``manage.py airlock_relay``."""
