"""Entry-point discovery, in fresh interpreters: lazy, switchable, loud on conflicts."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from coresupport import env_with_path, fake_distribution, run_python, subprocess_env

OFFER_EXECUTOR = """
import airlock

def run(intent):
    pass

@airlock.hookimpl
def airlock_register_executors():
    return {{"{name}": run}}
"""


def run_snippet(code: str, env: dict[str, str] | None = None) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter; it prints one JSON object as its last line."""
    result = run_python("-c", textwrap.dedent(code), env=env)
    assert result.returncode == 0, result.stderr
    parsed: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return parsed


def test_import_airlock_loads_no_entry_points_and_no_pluggy() -> None:
    found = run_snippet(
        """
        import json, sys
        before = set(sys.modules)
        import airlock
        new = set(sys.modules) - before
        imported = {
            "pluggy": any(m == "pluggy" or m.startswith("pluggy.") for m in new),
            "metadata": "importlib.metadata" in new,
        }
        with airlock.scope():
            pass
        after_scope = {
            "pluggy": "pluggy" in sys.modules,
        }
        print(json.dumps({"import": imported, "after_scope": after_scope}))
        """
    )
    assert found == {
        "import": {"pluggy": False, "metadata": False},
        "after_scope": {"pluggy": True},
    }


def test_enqueue_outside_a_scope_does_not_load_plugins() -> None:
    found = run_snippet(
        """
        import json, sys
        import airlock
        try:
            airlock.enqueue(print)
        except airlock.NoScopeError:
            pass
        print(json.dumps({"pluggy": "pluggy" in sys.modules}))
        """
    )
    assert found == {"pluggy": False}


NAMES = """
import json, airlock
kinds = ("executor", "policy", "scope")
print(json.dumps({kind: sorted(airlock.plugins.names(kind)) for kind in kinds}))
"""


def test_disabled_autoload_keeps_the_core_builtins_only() -> None:
    found = run_snippet(NAMES, env=subprocess_env(AIRLOCK_DISABLE_PLUGIN_AUTOLOAD="1"))
    assert found == {
        "executor": ["auto", "sync"],
        "policy": ["allow_all", "assert_no_effects", "dedupe", "drop_all", "log_on_flush"],
        "scope": ["default"],
    }


def test_disabled_autoload_hides_the_example_plugin_and_hints_at_siblings() -> None:
    found = run_snippet(
        """
        import json, airlock
        messages = {}
        for name in ("example", "celery"):
            try:
                airlock.scope(executor=name)
            except airlock.UnknownPluginError as exc:
                messages[name] = str(exc)
        print(json.dumps(messages))
        """,
        env=subprocess_env(AIRLOCK_DISABLE_PLUGIN_AUTOLOAD="1"),
    )
    assert set(found) == {"example", "celery"}
    assert "pip install airlock-celery" in str(found["celery"])
    assert "Installed executor names: auto, sync." in str(found["example"])


def test_hand_registration_works_with_autoload_disabled() -> None:
    found = run_snippet(
        """
        import json, airlock

        class Plugin:
            @airlock.hookimpl
            def airlock_register_executors(self):
                return {"by-hand": airlock.sync_executor}

        airlock.plugins.register(Plugin(), name="by-hand-plugin")
        selected = airlock.scope(executor="by-hand").executor is airlock.sync_executor
        print(json.dumps({"selected": selected}))
        """,
        env=subprocess_env(AIRLOCK_DISABLE_PLUGIN_AUTOLOAD="1"),
    )
    assert found == {"selected": True}


LOOKUP = """
import json, airlock
try:
    airlock.scope(executor="{name}")
except airlock.AirlockError as exc:
    print(json.dumps({{"type": type(exc).__name__, "message": str(exc)}}))
else:
    print(json.dumps({{"type": None}}))
"""


def test_two_distributions_offering_the_same_executor_name_conflict_naming_both(
    tmp_path: Path,
) -> None:
    fake_distribution(
        tmp_path,
        "core-fake-one",
        {"core_fake_one": "core_fake_one"},
        {"core_fake_one": OFFER_EXECUTOR.format(name="core-fake-dup")},
    )
    fake_distribution(
        tmp_path,
        "core-fake-two",
        {"core_fake_two": "core_fake_two"},
        {"core_fake_two": OFFER_EXECUTOR.format(name="core-fake-dup")},
    )
    found = run_snippet(LOOKUP.format(name="core-fake-dup"), env=env_with_path(tmp_path))
    assert found["type"] == "PluginConflictError"
    assert "core-fake-one" in str(found["message"])
    assert "core-fake-two" in str(found["message"])
    found = run_snippet(LOOKUP.format(name="sync"), env=env_with_path(tmp_path))
    assert found == {"type": None}


def test_two_distributions_publishing_the_same_plugin_name_conflict_naming_both(
    tmp_path: Path,
) -> None:
    fake_distribution(
        tmp_path,
        "core-fake-one",
        {"core_fake_same": "core_fake_one"},
        {"core_fake_one": OFFER_EXECUTOR.format(name="core-fake-a")},
    )
    fake_distribution(
        tmp_path,
        "core-fake-two",
        {"core_fake_same": "core_fake_two"},
        {"core_fake_two": OFFER_EXECUTOR.format(name="core-fake-b")},
    )
    # Neither is registered; what the application does not take from them keeps working.
    assert run_snippet(LOOKUP.format(name="sync"), env=env_with_path(tmp_path)) == {"type": None}
    found = run_snippet(LOOKUP.format(name="core-fake-a"), env=env_with_path(tmp_path))
    assert found["type"] == "PluginConflictError"
    assert "core-fake-one" in str(found["message"])
    assert "core-fake-two" in str(found["message"])


def test_a_plugin_that_fails_to_import_is_reported_by_name(tmp_path: Path) -> None:
    fake_distribution(
        tmp_path,
        "core-fake-broken",
        {"core_fake_broken": "core_fake_broken"},
        {"core_fake_broken": "raise ImportError('frobnicate is required')\n"},
    )
    # The application does not use what the broken plugin provides: it keeps working.
    assert run_snippet(LOOKUP.format(name="sync"), env=env_with_path(tmp_path)) == {"type": None}
    # A name it may have provided is unknown, and the error says why.
    found = run_snippet(LOOKUP.format(name="core-fake-gone"), env=env_with_path(tmp_path))
    assert found["type"] == "UnknownPluginError"
    message = str(found["message"])
    assert "frobnicate is required" in message
    assert "core-fake-broken" in message
    assert "AIRLOCK_DISABLE_PLUGIN_AUTOLOAD" in message
    listing = run_python("-m", "airlock", "plugins", env=env_with_path(tmp_path))
    assert listing.returncode == 1
    (row,) = [line for line in listing.stdout.splitlines() if line.startswith("core_fake_broken")]
    assert "core-fake-broken (FAILED TO LOAD)" in row
    assert "frobnicate is required" in listing.stderr
    assert "core" in [line.split()[0] for line in listing.stdout.splitlines()[1:]]


def test_an_entry_point_plugin_is_selected_by_name_with_its_distribution(tmp_path: Path) -> None:
    fake_distribution(
        tmp_path,
        "core-fake-one",
        {"core_fake_one": "core_fake_one"},
        {"core_fake_one": OFFER_EXECUTOR.format(name="core-fake-a")},
    )
    found = run_snippet(
        """
        import json, airlock
        executor = airlock.scope(executor="core-fake-a").executor
        print(json.dumps({
            "module": executor.__module__,
            "distribution": airlock.plugins.distribution("core_fake_one"),
        }))
        """,
        env=env_with_path(tmp_path),
    )
    assert found == {"module": "core_fake_one", "distribution": "core-fake-one"}
