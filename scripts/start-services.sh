#!/usr/bin/env bash
# Makes sure the PostgreSQL (127.0.0.1:5432, trust auth, database `test`) and Redis
# (127.0.0.1:6379) the test suite uses are up; starts them when they are not.
set -euo pipefail

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! pg_up; then
  if ! command -v pg_ctlcluster >/dev/null; then
    [ "$(id -u)" = 0 ] || { echo "services: PostgreSQL is not installed; run as root to install it" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  conf=/etc/postgresql/$version/main
  # Trust auth on loopback, as the suite expects (a throw-away test server).
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$conf/pg_hba.conf"; then
    sed -i 's/^\(local\|host\)\(.*\)\(peer\|md5\|scram-sha-256\)$/\1\2trust/' "$conf/pg_hba.conf"
    grep -q '^host all all 127.0.0.1/32 trust' "$conf/pg_hba.conf" || echo 'host all all 127.0.0.1/32 trust' >> "$conf/pg_hba.conf"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  pg_up || { echo "services: PostgreSQL did not start" >&2; exit 1; }
fi
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" postgres | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE test' postgres >/dev/null

if ! redis_up; then
  if ! command -v redis-server >/dev/null; then
    [ "$(id -u)" = 0 ] || { echo "services: Redis is not installed; run as root to install it" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  fi
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis_up && break; sleep 0.5; done
  redis_up || { echo "services: Redis did not start" >&2; exit 1; }
fi
echo "services: PostgreSQL and Redis are up"
