"""The ``dramatiq`` plugin: registers the executor under the name ``dramatiq``.

Importing it does not import Dramatiq: the executor is a lazy reference,
imported when ``"dramatiq"`` is first looked up.
"""

from __future__ import annotations

from collections.abc import Mapping

import airlock


@airlock.hookimpl
def airlock_register_executors() -> Mapping[str, str]:
    """``executor="dramatiq"`` selects :data:`airlock_dramatiq.dramatiq_executor`."""
    return {"dramatiq": "airlock_dramatiq.executor:dramatiq_executor"}
