#!/bin/sh
# Starts the Debian PostgreSQL cluster for the team-store tests (issue 16) and makes their role:
#   sckb / sckb, allowed to create databases and end sessions in them (each test makes and drops its own).
# Run as root (CI does, from .ci/run). The tests find the server at SCKB_TEST_POSTGRES
# (default postgresql://sckb:sckb@127.0.0.1:5432/postgres) and skip, saying how to run them, when none answers.
set -eu
if ! command -v pg_lsclusters >/dev/null 2>&1; then
  echo "start-postgres: PostgreSQL is not installed (tools/setup-system.sh test installs it)" >&2; exit 1
fi
cluster="$(pg_lsclusters -h | awk 'NR==1 {print $1 " " $2}')"
if [ -z "$cluster" ]; then
  ver="$(ls /usr/lib/postgresql | sort -n | tail -1)"
  pg_createcluster "$ver" main >/dev/null
  cluster="$ver main"
fi
# shellcheck disable=SC2086
pg_ctlcluster $cluster start 2>/dev/null || true
su postgres -c "psql -q -v ON_ERROR_STOP=1" <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sckb') THEN
    CREATE ROLE sckb LOGIN CREATEDB PASSWORD 'sckb';
  END IF;
END $$;
-- a test drops its database WITH (FORCE), which ends the sessions still in it (an autovacuum worker, say)
GRANT pg_signal_backend TO sckb;
SQL
echo "start-postgres: cluster $cluster is up; tests use postgresql://sckb:sckb@127.0.0.1:5432/postgres"
