#!/usr/bin/env bash
# Entry point of the `postgres` image (docker/Dockerfile): Debian's PostgreSQL started the way the
# registry images start, so docker/compose.yaml works with either.
#
# On an empty $PGDATA: initdb with POSTGRES_USER / POSTGRES_PASSWORD (required; scram-sha-256 over
# the network, trust only on the container's own unix socket), create POSTGRES_DB, run
# /docker-entrypoint-initdb.d/*.sql (POSTGRES_INITDB_DIR) once. Then `postgres` listens on all
# interfaces of the container (arguments after `postgres` are passed on, e.g. -c listen_addresses=...).
set -euo pipefail

POSTGRES_USER="${POSTGRES_USER:-postgres}"
POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
INITDB_DIR="${POSTGRES_INITDB_DIR:-/docker-entrypoint-initdb.d}"
log() { printf 'postgres-entrypoint: %s\n' "$*" >&2; }

if [[ "${1:-}" == postgres && ! -s "$PGDATA/PG_VERSION" ]]; then
  if [[ -z "${POSTGRES_PASSWORD:-}" ]]; then
    log "POSTGRES_PASSWORD is not set (the server accepts password logins only)"
    exit 2
  fi
  mkdir -p "$PGDATA"
  chmod 0700 "$PGDATA"
  pwfile="$(mktemp)"
  trap 'rm -f "$pwfile"' EXIT
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" -E UTF8 --no-locale \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  printf 'host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  # a private start on the unix socket only, for the one-time set-up
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  if [[ "$POSTGRES_DB" != postgres ]]; then
    psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d postgres -q -c "CREATE DATABASE \"$POSTGRES_DB\""
  fi
  for f in "$INITDB_DIR"/*.sql; do
    [[ -e "$f" ]] || continue
    log "running $f"
    psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -q -f "$f"
  done
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  log "initialised $PGDATA (user $POSTGRES_USER, database $POSTGRES_DB)"
fi

if [[ "${1:-}" == postgres ]]; then
  shift
  exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
fi
exec "$@"
