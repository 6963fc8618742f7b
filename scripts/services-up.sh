#!/usr/bin/env bash
# Start the local PostgreSQL and Redis if they are installed but not answering (CI machines
# start them before a session; this covers a machine where one stopped). Never fails: the test
# run then simply skips the PostgreSQL pass.
set -u
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! answers 5432 && command -v pg_ctlcluster >/dev/null 2>&1; then
  for version in $(ls /etc/postgresql 2>/dev/null); do
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  done
fi
if ! answers 6379 && command -v redis-server >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
for _ in $(seq 1 20); do
  answers 5432 && answers 6379 && break
  sleep 0.5
done
answers 5432 && echo "PostgreSQL answers on 127.0.0.1:5432" || echo "PostgreSQL is not available"
answers 6379 && echo "Redis answers on 127.0.0.1:6379" || echo "Redis is not available"
