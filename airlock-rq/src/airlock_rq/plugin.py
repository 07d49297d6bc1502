"""The ``rq`` plugin: registers the executor under the name ``rq``.

Importing it imports neither RQ nor redis: the executor is a lazy reference,
imported when ``"rq"`` is first looked up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import airlock


@airlock.hookimpl
def airlock_register_executors() -> Mapping[str, str]:
    """``executor="rq"`` selects :data:`airlock_rq.rq_executor`."""
    return {"rq": "airlock_rq.executor:rq_executor"}


@airlock.hookimpl
def airlock_check() -> Iterable[str]:
    """When ``rq`` is the default executor, it must have a Redis connection.

    When a connection is set up but no executor is configured, warn: RQ jobs
    are plain functions, which the task router runs in-process.
    """
    from airlock_rq import config
    from airlock_rq.executor import rq_executor

    executor = airlock.get_configuration()["executor"]
    if executor is airlock.plugins.lookup("executor", "auto") and config.is_configured():
        return [
            airlock.plugins.CheckWarning(
                "airlock-rq has a Redis connection, but no executor is configured: RQ"
                " jobs are plain functions, so the default executor runs them in-process."
                " Select RQ with airlock.configure(executor='rq'), AIRLOCK_EXECUTOR=rq or"
                " Django's AIRLOCK = {'EXECUTOR': 'rq'}, or per scope with"
                " airlock.scope(executor='rq')."
            )
        ]
    if executor is not rq_executor:
        return []
    try:
        config.get_connection()
    except airlock.UsageError as exc:
        return [str(exc)]
    return []
