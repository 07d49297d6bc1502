"""Celery for airlock: an executor, task scoping and migration tools.

``celery_executor`` (registered as ``"celery"``) publishes buffered intents with
``task.apply_async()``; ``ScopedTask`` scopes every run of a task;
``LegacyTaskShim``, ``install_global_intercept`` and ``uninstall_global_intercept``
move a codebase of ``.delay()`` calls onto airlock gradually. ``MessageRefused``
and ``DeliveryUncertain`` say, in a ``DispatchError``, what the broker did with
a message that failed.
Importing this package does not import Celery; the names that need it load it.
"""

from __future__ import annotations

from airlock.plugins import lazy_exports
from airlock_celery.errors import DeliveryUncertain, MessageRefused
from airlock_celery.executor import CeleryExecutor, celery_executor

TYPE_CHECKING = False
if TYPE_CHECKING:
    from airlock_celery.intercept import install_global_intercept, uninstall_global_intercept
    from airlock_celery.scoping import ScopedTask
    from airlock_celery.shim import LegacyTaskShim
else:  # Celery's Task class is needed to define these; load it only when asked
    __getattr__ = lazy_exports(
        __name__,
        {
            "LegacyTaskShim": "airlock_celery.shim",
            "ScopedTask": "airlock_celery.scoping",
            "install_global_intercept": "airlock_celery.intercept",
            "uninstall_global_intercept": "airlock_celery.intercept",
        },
    )


__version__ = "0.1.0"

__all__ = [
    "CeleryExecutor",
    "DeliveryUncertain",
    "LegacyTaskShim",
    "MessageRefused",
    "ScopedTask",
    "celery_executor",
    "install_global_intercept",
    "uninstall_global_intercept",
]
