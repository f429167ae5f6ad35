#!/usr/bin/env bash
# Starts the PostgreSQL and MariaDB services the provider tests use and makes
# sure they accept the test logins: postgres (trust) on 127.0.0.1:5432 and
# root (no password) on 127.0.0.1:3306. Installs the servers when missing and
# running as root. Idempotent: a running, reachable service is left alone.
# The tests themselves fail (never skip) when a server is still unreachable.
set -uo pipefail

have_cmd() { command -v "$1" >/dev/null 2>&1; }
is_root() { [ "$(id -u)" = 0 ]; }
port_open() { (echo > "/dev/tcp/127.0.0.1/$1") >/dev/null 2>&1; }
# bounded wait: up to $2 seconds for port $1
wait_port() {
  for _ in $(seq 1 "$2"); do port_open "$1" && return 0; sleep 1; done
  return 1
}

install_pkgs() {
  is_root || { echo "warning: not root, cannot install $*"; return 1; }
  apt-get update -qq || true
  apt-get install -y -qq "$@" || { echo "warning: apt-get install $* failed"; return 1; }
}

# --- PostgreSQL ---
[ -d /etc/postgresql ] || install_pkgs postgresql
if [ -d /etc/postgresql ]; then
  pg_version="$(ls /etc/postgresql | sort -V | tail -n1)"
  if ! port_open 5432; then
    pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start 2>/dev/null || service postgresql start || true
    wait_port 5432 30 || echo "warning: PostgreSQL did not start listening on 5432"
  fi
  if ! psql -h 127.0.0.1 -U postgres -d postgres -Atc 'SELECT 1' >/dev/null 2>&1 && is_root; then
    hba="/etc/postgresql/$pg_version/main/pg_hba.conf"
    # the tests log in as postgres without a password, on loopback only
    sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$pg_version" main reload 2>/dev/null || service postgresql reload || true
  fi
  psql -h 127.0.0.1 -U postgres -d postgres -Atc 'SELECT 1' >/dev/null 2>&1 \
    && echo "PostgreSQL ready on 127.0.0.1:5432" || echo "warning: PostgreSQL is not reachable as postgres on 127.0.0.1:5432"
fi

# --- MariaDB ---
[ -x /usr/sbin/mariadbd ] || install_pkgs mariadb-server
if [ -x /usr/sbin/mariadbd ]; then
  if ! port_open 3306; then
    # the socket directory lives on a tmpfs and is gone after a reboot
    is_root && install -d -o mysql -g mysql /run/mysqld
    service mariadb start 2>/dev/null \
      || start-stop-daemon --start --oknodo --background --chuid mysql --exec /usr/sbin/mariadbd -- --bind-address=127.0.0.1 \
      || true
    wait_port 3306 60 || echo "warning: MariaDB did not start listening on 3306"
  fi
  client="$(command -v mariadb || command -v mysql || true)"
  if [ -n "$client" ] && ! "$client" -h 127.0.0.1 -uroot -e 'SELECT 1' >/dev/null 2>&1 && is_root; then
    # root through the local socket (unix_socket auth) creates the loopback login the tests use
    "$client" -uroot -e "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY ''; \
      GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;" || true
  fi
  [ -n "$client" ] && "$client" -h 127.0.0.1 -uroot -e 'SELECT 1' >/dev/null 2>&1 \
    && echo "MariaDB ready on 127.0.0.1:3306" || echo "warning: MariaDB is not reachable as root on 127.0.0.1:3306"
fi
exit 0
