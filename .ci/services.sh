#!/usr/bin/env bash
# Make sure PostgreSQL, MariaDB, Redis and RabbitMQ answer on loopback: install what is
# missing (apt-get), start what is down, and wait (bounded) until each answers. Also
# installs Debian's chromium, the browser nox -s docs checks the built site in, and
# MariaDB's client library, which the mysqlclient driver compiles against.
# Debian, as root; elsewhere, compose.yaml starts the same services.
set -euo pipefail

log() { printf '[services] %s\n' "$*"; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {  # name port seconds
  local i
  for ((i = 0; i < $3 * 2; i++)); do
    if port_open "$2"; then log "$1 is up on 127.0.0.1:$2"; return 0; fi
    sleep 0.5
  done
  log "$1 did not come up on 127.0.0.1:$2 within $3 s"; return 1
}

# PostgreSQL
if ! command -v pg_ctlcluster >/dev/null; then log "installing postgresql"; apt_install postgresql; fi
if ! port_open 5432; then
  log "starting postgresql"
  newest=$(printf '%s\n' /etc/postgresql/* | sort -V | tail -1)
  pg_ctlcluster --skip-systemctl-redirect "${newest##*/}" main start || true
fi
wait_port postgresql 5432 60
# The tests connect as postgres over TCP with trust auth to database "test".
if command -v psql >/dev/null; then
  if ! psql -h 127.0.0.1 -U postgres -tAc "select 1" postgres >/dev/null 2>&1; then
    log "PostgreSQL does not accept user postgres over TCP; the PostgreSQL tests will say why"
  elif ! psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname='test'" postgres | grep -q 1; then
    psql -h 127.0.0.1 -U postgres -c "create database test" postgres
  fi
fi

# MariaDB: root with an empty password over TCP, database "test".
if [ ! -x /etc/init.d/mariadb ]; then log "installing mariadb"; apt_install mariadb-server; fi
if ! port_open 3306; then
  log "starting mariadb"
  /etc/init.d/mariadb start || true
fi
wait_port mariadb 3306 60
if ! mariadb -h 127.0.0.1 -u root -e "select 1" >/dev/null 2>&1; then
  log "letting root in over TCP with an empty password"
  mariadb -u root -e "
    CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
    GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
    ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('');
    FLUSH PRIVILEGES;" || log "could not change root's login; the MariaDB tests will say why"
fi
mariadb -h 127.0.0.1 -u root -e "create database if not exists test" \
  || log "could not create database test; the MariaDB tests will say why"

# Redis
if ! command -v redis-server >/dev/null; then log "installing redis"; apt_install redis-server; fi
if ! port_open 6379; then
  log "starting redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
fi
wait_port redis 6379 30

# RabbitMQ
if ! command -v rabbitmq-server >/dev/null; then log "installing rabbitmq"; apt_install rabbitmq-server; fi
if ! port_open 5672; then
  log "starting rabbitmq"
  rabbitmq-server -detached || true
fi
wait_port rabbitmq 5672 120

# Chromium: nox -s docs opens the built site in it (headless, through Playwright).
if [ ! -x /usr/bin/chromium ]; then log "installing chromium"; apt_install chromium; fi

# mysqlclient (the Django suite's MariaDB driver) compiles against MariaDB's client library.
if ! pkg-config --exists libmariadb 2>/dev/null; then
  log "installing libmariadb-dev and pkg-config (to build mysqlclient)"
  apt_install libmariadb-dev pkg-config
fi
