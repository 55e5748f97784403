#!/usr/bin/env bash
# Integration harness: a real `portcullis serve` behind a real nginx, on
# SQLite or on a private PostgreSQL 15 cluster this script starts and stops
# itself. Runs the gtest binary against it over HTTP, then stops everything
# it started (its own PIDs only) and removes its temp dirs.
#
#   tests/integration/run.sh sqlite|postgresql PORTCULLIS_BIN INTEGRATION_TESTS_BIN
set -euo pipefail

backend=$1
bin=$(realpath "$2")
tests=$(realpath "$3")
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)

T=$(mktemp -d /tmp/portcullis-it-"$backend".XXXXXX)
chmod 0755 "$T"
PGDIR=""
master_pid=""
nginx_pid=""
pg_bin=""
as_pg=()

log() { echo "[run.sh $backend] $*"; }

stop_pid() {  # stop_pid PID SECONDS: TERM, wait, then KILL
  local pid=$1 secs=$2
  [[ -n $pid ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq $((secs * 10))); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  set +e
  stop_pid "$nginx_pid" 5
  stop_pid "$master_pid" 15
  # Workers of a killed master would be orphans: kill any that point at our socket.
  for p in $(pgrep -f "serve --env-file $T/portcullis.env" 2>/dev/null); do kill -KILL "$p"; done
  if [[ -n $PGDIR && -f $PGDIR/data/postmaster.pid ]]; then
    "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$PGDIR/data" -m immediate -w stop >/dev/null 2>&1
  fi
  if [[ $rc -ne 0 ]]; then
    log "FAILED (exit $rc); last lines of the logs:"
    tail -n 40 "$T/portcullis.log" 2>/dev/null
    tail -n 20 "$T/nginx/error.log" 2>/dev/null
    [[ -n $PGDIR ]] && tail -n 20 "$PGDIR/postgres.log" 2>/dev/null
    mkdir -p "$root/build/test-artifacts" 2>/dev/null &&
      cp "$T/portcullis.log" "$root/build/test-artifacts/integration-$backend-portcullis.log" 2>/dev/null
  fi
  rm -rf "$T"
  [[ -n $PGDIR ]] && rm -rf "$PGDIR"
  exit $rc
}
trap cleanup EXIT INT TERM

# Below the kernel's ephemeral range (32768+), so an outgoing connection
# cannot be holding the port nginx is about to bind.
free_port() {
  local p
  for _ in $(seq 200); do
    p=$((10000 + RANDOM % 22000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

port=$(free_port)
db_url=""
owner_url=""
scratch_url=""
pg_stop=""
pg_start=""

if [[ $backend == postgresql ]]; then
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  PGDIR=$(mktemp -d /tmp/portcullis-pg.XXXXXX)
  pg_port=$(free_port)
  if [[ $EUID -eq 0 ]]; then
    # initdb refuses to run as root: the cluster belongs to postgres.
    chown postgres:postgres "$PGDIR"
    as_pg=(runuser -u postgres --)
  fi
  "${as_pg[@]}" "$pg_bin/initdb" -D "$PGDIR/data" -U postgres -A trust --no-sync \
    --encoding=UTF8 --locale=C.UTF-8 >"$T/initdb.log" 2>&1 || { cat "$T/initdb.log"; exit 1; }
  pg_opts="-c listen_addresses='' -k $PGDIR -p $pg_port -c fsync=off -c full_page_writes=off"
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$PGDIR/data" -o "$pg_opts" -l "$PGDIR/postgres.log" -w start >/dev/null
  psql_admin=("$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGDIR" -p "$pg_port" -U postgres)
  # Two roles, as in production (README): the owner runs migrations, the app
  # role owns nothing and only gets the privileges the owner grants.
  "${psql_admin[@]}" -d postgres <<SQL
CREATE ROLE portcullis_owner LOGIN;
CREATE ROLE portcullis_app LOGIN NOBYPASSRLS;
CREATE DATABASE portcullis OWNER portcullis_owner;
SQL
  "${psql_admin[@]}" -d portcullis <<SQL
REVOKE ALL ON SCHEMA public FROM PUBLIC;
ALTER SCHEMA public OWNER TO portcullis_owner;
GRANT USAGE ON SCHEMA public TO portcullis_app;
ALTER DEFAULT PRIVILEGES FOR ROLE portcullis_owner IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO portcullis_app;
SQL
  # A scratch database of the owner's, for tests that migrate a schema of their own (the
  # upgrade test) without touching the one the server uses.
  "${psql_admin[@]}" -d postgres -c "CREATE DATABASE portcullis_scratch OWNER portcullis_owner"
  "${psql_admin[@]}" -d portcullis_scratch -c "ALTER SCHEMA public OWNER TO portcullis_owner"
  scratch_url="postgresql://portcullis_owner@/portcullis_scratch?host=$PGDIR&port=$pg_port"
  db_url="postgresql://portcullis_app@/portcullis?host=$PGDIR&port=$pg_port"
  owner_url="postgresql://portcullis_owner@/portcullis?host=$PGDIR&port=$pg_port"
  pg_stop="${as_pg[*]} $pg_bin/pg_ctl -D $PGDIR/data -m fast -w stop"
  pg_start="${as_pg[*]} $pg_bin/pg_ctl -D $PGDIR/data -o \"$pg_opts\" -l $PGDIR/postgres.log -w start"
else
  db_url="sqlite://$T/portcullis.db"
fi

# nginx first, so the port is settled before the app's config names it.
# Another process may take the port between the check and the bind: retry.
for attempt in 1 2 3 4 5; do
  bash "$root/nginx/render-dev.sh" "$T/nginx/nginx.conf" "$T/nginx" "$port" "$T/fcgi.sock" 6000r/m 200 >/dev/null
  nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -e "$T/nginx/error.log" &
  nginx_pid=$!
  up=0
  for _ in $(seq 60); do
    kill -0 "$nginx_pid" 2>/dev/null || break
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      up=1
      break
    fi
    sleep 0.1
  done
  if [[ $up -eq 1 ]]; then
    break
  fi
  kill "$nginx_pid" 2>/dev/null || true
  log "nginx could not start on port $port (attempt $attempt); trying another"
  wait "$nginx_pid" 2>/dev/null || true
  nginx_pid=""
  port=$(free_port)
done

cat >"$T/portcullis.env" <<ENV
PORTCULLIS_ENV=development
PORTCULLIS_VAR_DIR=$T/var
PORTCULLIS_DATABASE_URL=$db_url
PORTCULLIS_DATABASE_OWNER_URL=$owner_url
PORTCULLIS_MIGRATIONS_DIR=$root/db/migrations
PORTCULLIS_ALLOWED_ORIGINS=http://127.0.0.1:$port
PORTCULLIS_LOG_LEVEL=info
PORTCULLIS_SHUTDOWN_GRACE_SECONDS=10
PORTCULLIS_MAX_REQUESTS_PER_WORKER=400
# Every test request comes from 127.0.0.1: the per-IP forgot-password limit
# would otherwise be spent by the first few tests (the per-address one stays).
PORTCULLIS_RESET_REQUESTS_PER_IP=100000
ENV

# ASan: a leak report in a worker's _exit path is not ours to read here.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0}

"$bin" migrate --env-file "$T/portcullis.env" >"$T/migrate.log" 2>&1 || { cat "$T/migrate.log"; exit 1; }
"$bin" serve --env-file "$T/portcullis.env" --listen "unix:$T/fcgi.sock" --workers 3 \
  >"$T/portcullis.log" 2>&1 &
master_pid=$!


ready=0
for _ in $(seq 200); do
  if [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/v1/health" || true) == 200 ]]; then
    ready=1
    break
  fi
  sleep 0.1
done
[[ $ready -eq 1 ]] || { log "the stack did not become healthy"; exit 1; }
log "stack up on port $port (master $master_pid, nginx $nginx_pid)"

set +e
PORTCULLIS_TEST_BASE_URL="http://127.0.0.1:$port" \
PORTCULLIS_TEST_BACKEND="$backend" \
PORTCULLIS_TEST_MASTER_PID="$master_pid" \
PORTCULLIS_TEST_BIN="$bin" \
PORTCULLIS_TEST_ENV_FILE="$T/portcullis.env" \
PORTCULLIS_TEST_DIR="$T" \
PORTCULLIS_TEST_LOG="$T/portcullis.log" \
PORTCULLIS_TEST_MIGRATIONS_DIR="$root/db/migrations" \
PORTCULLIS_TEST_PG_STOP="$pg_stop" \
PORTCULLIS_TEST_DB_URL="${owner_url:-$db_url}" \
PORTCULLIS_TEST_APP_DB_URL="$db_url" \
PORTCULLIS_TEST_SCRATCH_DB_URL="$scratch_url" \
PORTCULLIS_TEST_NGINX_DIR="$root/nginx" \
PORTCULLIS_TEST_SOURCE_DIR="$root" \
PORTCULLIS_TEST_FCGI_SOCKET="$T/fcgi.sock" \
PORTCULLIS_TEST_PG_START="$pg_start" \
  "$tests" --gtest_color=no
rc=$?
set -e
exit $rc
