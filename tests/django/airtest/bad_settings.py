"""Settings with a typo in AIRLOCK, for `airlock check` / `manage.py check` in a subprocess."""

from airtest.settings import *  # noqa: F403

AIRLOCK = {"EXECUTOR": "celry", "POLICY": "drop_all"}
