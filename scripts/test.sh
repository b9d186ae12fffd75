#!/usr/bin/env bash
# Runs every test. As root on Debian it first installs and starts what the tests need:
# git, the PostgreSQL and MariaDB servers and clients. Never waits for input.
set -euo pipefail
cd "$(dirname "$0")/.."

export KALLITHEA_TEST_POSTGRES_URL="${KALLITHEA_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/test}"
export KALLITHEA_TEST_MYSQL_URL="${KALLITHEA_TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306/test}"
export DEBIAN_FRONTEND=noninteractive

is_root() { [ "$(id -u)" = 0 ]; }
have() { command -v "$1" >/dev/null 2>&1; }
say() { printf '== %s\n' "$*"; }

apt_install() {
  if ! is_root; then
    echo "missing: $* (run as root to install them, or install them yourself)" >&2
    exit 1
  fi
  say "installing $*"
  apt-get update -qq >/dev/null 2>&1 || true
  apt-get install -y -qq "$@" >/dev/null
}

wait_port() { # host port seconds
  for _ in $(seq 1 "$3"); do
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
    sleep 1
  done
  return 1
}

have git || apt_install git
have psql || apt_install postgresql-client
have mysql || apt_install mariadb-client
# reStructuredText READMEs are rendered by docutils.
python3 -c 'import docutils' 2>/dev/null || python3 -m pip install -q docutils 2>/dev/null || apt_install python3-docutils
# Headless browser tests use Debian's Chromium and its matching chromedriver.
{ have chromium && have chromedriver; } || apt_install chromium chromium-driver
# Proxy tests put a real nginx in front of the server.
have nginx || [ -x /usr/sbin/nginx ] || apt_install nginx-light
# Password reset mail goes to aiosmtpd, a small SMTP receiver.
python3 -c 'import aiosmtpd' 2>/dev/null || python3 -m pip install -q aiosmtpd 2>/dev/null || apt_install python3-aiosmtpd
# TLS tests make a certificate with openssl and fetch with curl.
{ have openssl && have curl; } || apt_install openssl curl
# SSH key tests make keys with ssh-keygen.
have ssh-keygen || apt_install openssh-client

# PostgreSQL on 127.0.0.1:5432 with the `test` database.
if ! wait_port 127.0.0.1 5432 1; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then apt_install postgresql; fi
  say "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  wait_port 127.0.0.1 5432 30 || { echo "PostgreSQL did not start" >&2; exit 1; }
fi
pg_admin_url="${KALLITHEA_TEST_POSTGRES_URL%/*}/postgres"
if ! psql "$KALLITHEA_TEST_POSTGRES_URL" -qAtc 'select 1' >/dev/null 2>&1; then
  if is_root && ! psql "$pg_admin_url" -qAtc 'select 1' >/dev/null 2>&1; then
    say "allowing password login for the postgres account"
    su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'kallithea'\"" >/dev/null
    export KALLITHEA_TEST_POSTGRES_URL="postgresql://postgres:kallithea@127.0.0.1:5432/test"
    pg_admin_url="postgresql://postgres:kallithea@127.0.0.1:5432/postgres"
  fi
  psql "$pg_admin_url" -qc 'CREATE DATABASE test' >/dev/null 2>&1 || true
fi
psql "$KALLITHEA_TEST_POSTGRES_URL" -qAtc 'select 1' >/dev/null

# MariaDB on 127.0.0.1:3306, root without a password.
if ! wait_port 127.0.0.1 3306 1; then
  [ -x /usr/sbin/mariadbd ] || apt_install mariadb-server
  say "starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql || true
  wait_port 127.0.0.1 3306 30 || { echo "MariaDB did not start" >&2; exit 1; }
fi
if ! mysql -h 127.0.0.1 -P 3306 -u root -e 'select 1' >/dev/null 2>&1 && is_root; then
  say "allowing password-less TCP login for MariaDB root (test machine only)"
  mysql -u root -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD(''); FLUSH PRIVILEGES;" || true
fi
mysql -h 127.0.0.1 -P 3306 -u root -e 'CREATE DATABASE IF NOT EXISTS test' >/dev/null

say "cargo fmt --check"
cargo fmt --all -- --check
say "cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
say "running the tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi
