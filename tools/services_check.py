"""Do the services the tests need answer? ``nox -s tests`` asks first, before it installs.

    python tools/services_check.py

Each service is found through its ``AIRLOCK_TEST_*_URL`` variable (loopback defaults) and
asked, in its own protocol, to answer: PostgreSQL an SSL request, MariaDB its greeting,
Redis a PING, RabbitMQ the AMQP 0-9-1 header. Exit status 0 when all four answer; else 1,
with one short message naming what does not answer and the command that starts it.
"""

from __future__ import annotations

import os
import socket
import struct
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

#: Seconds to connect, and again to read the answer, per service.
TIMEOUT = 3.0


def _postgres(sock: socket.socket) -> str | None:
    sock.sendall(struct.pack("!ii", 8, 80877103))  # SSLRequest: the server says S or N
    answer = sock.recv(1)
    return None if answer in (b"S", b"N") else f"answered {answer!r}, not as PostgreSQL does"


def _mariadb(sock: socket.socket) -> str | None:
    greeting = sock.recv(256)  # the server speaks first: length (3), sequence (1), payload
    if len(greeting) > 4 and greeting[4] == 10:  # protocol version 10: a handshake
        return None
    if len(greeting) > 7 and greeting[4] == 0xFF:  # an error packet: code (2), then text
        return "refused the connection: " + greeting[7:].decode(errors="replace")
    return f"answered {greeting[:16]!r}, not as MariaDB does"


def _redis(sock: socket.socket) -> str | None:
    sock.sendall(b"PING\r\n")
    answer = sock.recv(64)
    return None if answer[:1] in (b"+", b"-") else f"answered {answer!r}, not as Redis does"


def _rabbitmq(sock: socket.socket) -> str | None:
    sock.sendall(b"AMQP\x00\x00\x09\x01")  # AMQP 0-9-1: the server sends Connection.Start
    answer = sock.recv(7)
    return None if answer[:1] == b"\x01" else f"answered {answer!r}, not as RabbitMQ does"


@dataclass(frozen=True)
class Service:
    """One service the tests need."""

    name: str
    variable: str
    default: str
    compose_name: str
    ask: Callable[[socket.socket], str | None]


SERVICES = (
    Service(
        "PostgreSQL",
        "AIRLOCK_TEST_POSTGRES_URL",
        "postgresql://postgres@127.0.0.1:5432/test",
        "postgres",
        _postgres,
    ),
    Service(
        "MariaDB", "AIRLOCK_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test", "mariadb", _mariadb
    ),
    Service("Redis", "AIRLOCK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0", "redis", _redis),
    Service(
        "RabbitMQ",
        "AIRLOCK_TEST_AMQP_URL",
        "amqp://guest:guest@127.0.0.1:5672//",
        "rabbitmq",
        _rabbitmq,
    ),
)

_DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306, "redis": 6379, "amqp": 5672}


def _shown(url: str) -> str:
    """The URL with any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def why_not(service: Service, url: str) -> str | None:
    """Why ``service`` at ``url`` does not answer, or None when it does."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        return "the URL names no host"
    try:
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError as exc:
        return f"the URL's port is wrong ({exc})"
    if port is None:
        return "the URL names no port"
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT) as sock:
            sock.settimeout(TIMEOUT)
            return service.ask(sock)
    except OSError as exc:
        return exc.strerror or str(exc) or type(exc).__name__


def problem(environ: Mapping[str, str] = os.environ) -> str | None:
    """The message for the services that do not answer, or None when all of them do."""
    missing = []
    for service in SERVICES:
        url = environ.get(service.variable) or service.default
        reason = why_not(service, url)
        if reason is not None:
            missing.append((service, url, reason))
    if not missing:
        return None
    lines = [
        f"The tests need {', '.join(s.name for s in SERVICES[:-1])} and {SERVICES[-1].name};"
        " these do not answer:"
    ]
    lines += [f"  {s.name} at {_shown(url)} ({s.variable}): {why}" for s, url, why in missing]
    names = " ".join(s.compose_name for s, _, _ in missing)
    lines.append(
        f"Start them: `docker compose up -d --wait {names}` (compose.yaml, Docker or"
        " Podman), or on Debian, as root: `bash .ci/services.sh`."
    )
    return "\n".join(lines)


def main() -> int:
    """Print the problem, if any; exit status 1 then, else 0."""
    message = problem()
    if message is None:
        return 0
    print(message, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
