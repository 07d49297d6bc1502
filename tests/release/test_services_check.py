"""nox -s tests asks every service first (tools/services_check.py): one that does not
answer stops the run at once with a message naming it and the command that starts it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
VARIABLES = (
    "AIRLOCK_TEST_POSTGRES_URL",
    "AIRLOCK_TEST_MYSQL_URL",
    "AIRLOCK_TEST_REDIS_URL",
    "AIRLOCK_TEST_AMQP_URL",
)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def check(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "services_check.py")],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_every_service_answers() -> None:
    result = check()
    assert (result.returncode, result.stderr) == (0, "")


def test_a_service_that_does_not_answer_is_named_with_the_command_that_starts_it() -> None:
    url = f"redis://127.0.0.1:{closed_port()}/0"
    result = check(AIRLOCK_TEST_REDIS_URL=url)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == (
        "The tests need PostgreSQL, MariaDB, Redis and RabbitMQ; these do not answer:"
    )
    assert lines[1].startswith(f"  Redis at {url} (AIRLOCK_TEST_REDIS_URL): ")
    assert lines[2] == (
        "Start them: `docker compose up -d --wait redis` (compose.yaml, Docker or Podman),"
        " or on Debian, as root: `bash .ci/services.sh`."
    )
    assert len(lines) == 3


def test_a_password_in_a_url_is_not_shown() -> None:
    url = f"amqp://guest:s3cret@127.0.0.1:{closed_port()}//"
    result = check(AIRLOCK_TEST_AMQP_URL=url)
    assert result.returncode == 1
    assert "s3cret" not in result.stderr
    assert f"RabbitMQ at {url.replace('s3cret', '***')} (AIRLOCK_TEST_AMQP_URL)" in result.stderr


def test_a_port_where_another_service_listens_does_not_count(redis_url: str) -> None:
    """MariaDB's variable pointed at Redis: a listening port is not a MariaDB."""
    port = redis_url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)[1]
    result = check(AIRLOCK_TEST_MYSQL_URL=f"mysql://root@127.0.0.1:{port}/test")
    assert result.returncode == 1
    assert "MariaDB at" in result.stderr
    assert "`docker compose up -d --wait mariadb`" in result.stderr


def test_nox_tests_stops_before_installing_anything(tmp_path: Path) -> None:
    """The real noxfile, in a throwaway envdir: the run ends with the message, status 1,
    before the first stack installs anything or the next stack starts."""
    port = closed_port()
    result = subprocess.run(
        [sys.executable, "-m", "nox", "--noxfile", str(ROOT / "noxfile.py"),
         "--envdir", str(tmp_path), "-s", "tests", "--", "--version"],
        cwd=ROOT, env={**os.environ, "AIRLOCK_TEST_POSTGRES_URL":
                       f"postgresql://postgres@127.0.0.1:{port}/test"},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"PostgreSQL at postgresql://postgres@127.0.0.1:{port}/test" in result.stderr
    assert "`docker compose up -d --wait postgres`" in result.stderr
    assert "pip install" not in result.stderr
    assert "nox > pytest" not in result.stderr
    assert result.stderr.count("Running session") == 1


def test_compose_starts_each_service_where_the_defaults_look() -> None:
    """compose.yaml publishes every service on the loopback port of its default URL, with
    the databases and credentials those URLs name."""
    import yaml  # pre-commit's dependency

    sys.path.insert(0, str(ROOT / "tools"))
    import services_check

    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    assert sorted(compose) == sorted(s.compose_name for s in services_check.SERVICES)
    for service in services_check.SERVICES:
        url = urlsplit(service.default)
        assert compose[service.compose_name]["ports"] == [f"127.0.0.1:{url.port}:{url.port}"]
    postgres, mariadb = compose["postgres"]["environment"], compose["mariadb"]["environment"]
    assert postgres == {"POSTGRES_HOST_AUTH_METHOD": "trust", "POSTGRES_DB": "test"}
    assert mariadb == {"MARIADB_ALLOW_EMPTY_ROOT_PASSWORD": "1", "MARIADB_DATABASE": "test"}
    assert [s.default for s in services_check.SERVICES if s.compose_name == "rabbitmq"] == [
        "amqp://guest:guest@127.0.0.1:5672//"  # the image's own user, let in from outside
    ]
