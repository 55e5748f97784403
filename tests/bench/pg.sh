#!/usr/bin/env bash
# portcullis PostgreSQL benchmarks (issue #10; part of `make bench`).
#
#   tests/bench/pg.sh REPO_DIR BUILD_DIR
#
# BUILD_DIR (absolute, or relative to the current directory or to REPO_DIR) must hold portcullis,
# tests/bench/{fcgi_hello,pg_probe_list,pg_probe_me,aead_bench}, e.g. a Release build configured
# with -DPORTCULLIS_BUILD_BENCH=ON.
#
#   1. A private PostgreSQL cluster as in tests/integration/run.sh (mktemp -d, owned by postgres
#      when run as root; fsync=off, full_page_writes=off as in the tests), the two roles
#      (portcullis_owner runs `portcullis migrate`; portcullis_app owns nothing, NOBYPASSRLS), so
#      row-level security is on for every request. `portcullis serve` (BENCH_WORKERS, 4) and
#      the two probes (same worker count; tests/bench/pg_probe.cpp) each behind their own nginx
#      rendered by nginx/render-dev.sh (the product's dev config; the auth limit_req raised).
#      A SQLite `portcullis serve` and fcgi_hello run beside them for the /me ÷ hello ratios.
#   2. Seeding through the API: BENCH_PG_TENANTS (10) owners register (one tenant each), log in,
#      and create BENCH_PG_MEMORIES (1000) memories each (POST /api/v1/memories, ~400-byte
#      content, two tags; curl --parallel, 4 at a time per tenant, 2 tenants at a time); every
#      answer must be 201.
#      Then, for information: the list query's plan, planning and execution time per tenant for
#      page 1 and page 50 (EXPLAIN ANALYZE as the app role).
#   3. The probes' answers are compared with the app's (page 1, page 50 and /me, same session):
#      byte-for-byte equal JSON bodies, or the run stops. Then page 1 and page 50 one request at
#      a time (curl, 100 sequential, median time_total) on the app and on pg_probe_list.
#   4. Round trips and statements per request: `strace -f -e trace=sendto` on the workers
#      (libpq sends each flush with one send(); FastCGI answers go out with write()), and
#      log_statement=all on the cluster (lines "statement:" / "execute"), over
#      BENCH_PG_TRACE_REQUESTS (20) sequential requests each: list page 1 and /me on the app and
#      on the probes, and memory creates on the app. The statements of one app request are
#      listed.
#   5. wrk -t2 -c64 (BENCH_PG_THREADS, BENCH_PG_CONNECTIONS) --latency, BENCH_PG_DURATION (10s)
#      per run, BENCH_PG_ROUNDS (3) interleaved rounds after a 2 s warm-up each; every request
#      rotates over the 10 tenants' sessions (a wrk Lua script):
#        list      app   GET /api/v1/memories?limit=20
#        list_p    probe the same through pg_probe_list
#        list50    app   page 50 (each tenant's cursor after 980 rows)
#        list50_p  probe page 50
#        me        app   GET /api/v1/me
#        me_p      probe pg_probe_me
#        me_sqlite app on SQLite, GET /api/v1/me (one account)
#        hello     fcgi_hello
#      Medians of the rounds; ratios and goals in the table at the end.
#   6. Issue #4's figures at the SQL level: BENCH_PG_BIG_ROWS (1 000 000) memories inserted
#      directly with generate_series as the owner (not through the API: this measures the query,
#      so content_enc is a dummy) over 20 tenants, 50 000 each; the list query as the app sends
#      it (tenant bound with set_config, RLS on), EXPLAIN ANALYZE execution time, median of 5:
#      page 1 with memories_tenant_id_idx, without it (dropped inside a rolled-back transaction,
#      the planner's next best plan), and with no index scan at all (seq scan + top-N sort);
#      page 1000 (keyset after 19 980 rows) vs page 1 with the index. BENCH_PG_SKIP_BIG=1 skips.
#   7. aead_bench (Google Benchmark): AES-256-GCM encrypt + decrypt of 1 KiB with the product's
#      FieldCipher, 3 repetitions.
#
# Reports figures only; the exit status is non-zero only when the benchmark itself could not run.
# Everything lives in private `mktemp -d` directories removed at the end; the trap stops only the
# processes this script started (by PID, and the workers it saw under them) and its cluster.
set -euo pipefail

die() {
    echo "pg-bench: $*" >&2
    exit 1
}

if [[ $# -ne 2 ]]; then
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
    exit 2
fi

repo=$(cd -- "$1" && pwd -P) || die "no such directory: $1"
build=$2
if [[ $build != /* ]]; then
    if [[ -d $build ]]; then
        build=$(cd -- "$build" && pwd -P)
    else
        build=$repo/$build
    fi
fi
[[ -d $build ]] || die "build directory not found: $build"

portcullis=$build/portcullis
fcgi_hello=$build/tests/bench/fcgi_hello
probe_list=$build/tests/bench/pg_probe_list
probe_me=$build/tests/bench/pg_probe_me
aead_bench=$build/tests/bench/aead_bench
for exe in "$portcullis" "$fcgi_hello" "$probe_list" "$probe_me"; do
    [[ -x $exe ]] || die "not built: $exe (ninja -C $build portcullis fcgi_hello pg_probe_list pg_probe_me aead_bench)"
done
for tool in wrk nginx curl awk jq strace; do
    command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install $tool)"
done
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[[ -x $pg_bin/initdb ]] || die "PostgreSQL server binaries not found under /usr/lib/postgresql"

duration=${BENCH_PG_DURATION:-10s}
warmup=${BENCH_PG_WARMUP:-2s}
threads=${BENCH_PG_THREADS:-2}
connections=${BENCH_PG_CONNECTIONS:-64}
rounds=${BENCH_PG_ROUNDS:-3}
workers=${BENCH_WORKERS:-4}
tenants=${BENCH_PG_TENANTS:-10}
memories=${BENCH_PG_MEMORIES:-1000}
trace_n=${BENCH_PG_TRACE_REQUESTS:-20}
big_rows=${BENCH_PG_BIG_ROWS:-1000000}
for n in "$threads" "$connections" "$rounds" "$workers" "$tenants" "$memories" "$trace_n" \
    "$big_rows"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || die "BENCH_* counts must be positive integers: $n"
done
((memories >= 1000)) || die "BENCH_PG_MEMORIES must be >= 1000 (page 50 of 20)"

while read -r var; do
    if [[ $var == PORTCULLIS_* ]]; then
        unset "$var"
    fi
done < <(compgen -e)
unset CREDENTIALS_DIRECTORY LISTEN_FDS LISTEN_PID NOTIFY_SOCKET

tmp=$(mktemp -d "${TMPDIR:-/tmp}/portcullis-pgbench.XXXXXX")
chmod 0755 "$tmp"
pgdir=$(mktemp -d /tmp/portcullis-pgbench-pg.XXXXXX)
as_pg=()
if [[ $EUID -eq 0 ]]; then
    chown postgres:postgres "$pgdir"
    as_pg=(runuser -u postgres --)
fi

# --- process bookkeeping (as run.sh) -----------------------------------------------------------

started=()

children_of() {
    local parent=$1 stat line rest state ppid
    for stat in /proc/[0-9]*/stat; do
        { read -r line <"$stat"; } 2>/dev/null || continue
        rest=${line##*) }
        read -r state ppid _ <<<"$rest"
        if [[ $ppid == "$parent" ]]; then
            echo "${line%% *}"
        fi
    done
}

alive() {
    local line state
    { read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
    read -r state _ <<<"${line##*) }"
    [[ $state != Z ]]
}

stop_pid() {
    local pid=$1 kids i
    kids=$(children_of "$pid")
    if alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 300; i++)); do
            alive "$pid" || break
            sleep 0.1
        done
        if alive "$pid"; then
            echo "pg-bench: PID $pid did not stop on SIGTERM; SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
    for i in $kids; do
        if alive "$i"; then
            sleep 0.5
            if alive "$i"; then
                kill -KILL "$i" 2>/dev/null || true
            fi
        fi
    done
    local rest=()
    for i in "${started[@]}"; do
        [[ $i == "$pid" ]] || rest+=("$i")
    done
    started=("${rest[@]+"${rest[@]}"}")
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    local pid
    for pid in "${started[@]+"${started[@]}"}"; do
        stop_pid "$pid"
    done
    if [[ -f $pgdir/data/postmaster.pid ]]; then
        "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pgdir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    if [[ $rc -ne 0 ]]; then
        for f in "$tmp"/serve-*.log "$pgdir/postgres.log"; do
            [[ -s $f ]] || continue
            echo "--- last lines of $f ---" >&2
            tail -n 15 "$f" >&2
        done
    fi
    rm -rf -- "$tmp" "$pgdir"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    local port
    for _ in $(seq 100); do
        port=$((10000 + RANDOM % 22000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    die "no free TCP port found"
}

wait_ready() {  # URL PID LOG: until URL answers 200 while PID lives
    local url=$1 pid=$2 log=$3 code=
    for _ in $(seq 200); do
        alive "$pid" || { tail -n 20 "$log" >&2; die "PID $pid exited before $url answered"; }
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" || true)
        [[ $code == 200 ]] && return 0
        sleep 0.1
    done
    tail -n 20 "$log" >&2
    die "$url did not answer 200 within 20 s (last: $code)"
}

wait_children() {  # PID N: prints PID's children once there are N
    local pid=$1 n=$2 kids
    for _ in $(seq 100); do
        kids=$(children_of "$pid")
        if [[ $(wc -w <<<"$kids") -ge $n ]]; then
            echo "$kids"
            return 0
        fi
        sleep 0.1
    done
    die "PID $pid has fewer than $n workers"
}

declare -A base  # per backend name: http://127.0.0.1:PORT of its nginx
declare -A backend_pid

start_nginx() {  # NAME FCGI_SOCKET
    local name=$1 socket=$2 port pid prefix=$tmp/nginx-$1
    port=$(free_port)
    bash "$repo/nginx/render-dev.sh" "$prefix/nginx.conf" "$prefix" "$port" "$socket" \
        100000r/s 100000 >/dev/null
    nginx -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/error.log" >"$prefix/stdout.log" 2>&1 &
    pid=$!
    started+=("$pid")
    base[$name]=http://127.0.0.1:$port
    wait_ready "${base[$name]}/index.html" "$pid" "$prefix/error.log"
}

# --- 1. cluster, roles, servers ------------------------------------------------------------------

echo "== PostgreSQL benchmarks: $(nproc) CPU(s), $workers workers per server, nginx" \
    "$(nginx -v 2>&1 | sed 's/.*nginx\///'), $("$pg_bin/postgres" --version)"
pg_port=$(free_port)
"${as_pg[@]}" "$pg_bin/initdb" -D "$pgdir/data" -U postgres -A trust --no-sync \
    --encoding=UTF8 --locale=C.UTF-8 >"$tmp/initdb.log" 2>&1 ||
    { cat "$tmp/initdb.log" >&2; die "initdb failed"; }
pg_opts="-c listen_addresses='' -k $pgdir -p $pg_port -c fsync=off -c full_page_writes=off"
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pgdir/data" -o "$pg_opts" -l "$pgdir/postgres.log" -w start \
    >/dev/null || die "the cluster did not start"
psql_as() {  # ROLE DB [psql args…]
    local role=$1 db=$2
    shift 2
    "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$pgdir" -p "$pg_port" -U "$role" -d "$db" "$@"
}
psql_as postgres postgres <<SQL
CREATE ROLE portcullis_owner LOGIN;
CREATE ROLE portcullis_app LOGIN NOBYPASSRLS;
CREATE DATABASE portcullis OWNER portcullis_owner;
SQL
psql_as postgres portcullis <<SQL
REVOKE ALL ON SCHEMA public FROM PUBLIC;
ALTER SCHEMA public OWNER TO portcullis_owner;
GRANT USAGE ON SCHEMA public TO portcullis_app;
ALTER DEFAULT PRIVILEGES FOR ROLE portcullis_owner IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO portcullis_app;
SQL

secret_key=$("$portcullis" gen-secret)
data_key=$("$portcullis" gen-secret)
write_env() {  # FILE DATABASE_URL [OWNER_URL]
    cat >"$1" <<EOF
PORTCULLIS_ENV=development
PORTCULLIS_VAR_DIR=$tmp/var
PORTCULLIS_DATABASE_URL=$2
PORTCULLIS_DATABASE_OWNER_URL=${3:-}
PORTCULLIS_SECRET_KEY=$secret_key
PORTCULLIS_DATA_KEYS=k1:$data_key
PORTCULLIS_LOG_LEVEL=warning
PORTCULLIS_MIGRATIONS_DIR=$repo/db/migrations
PORTCULLIS_IP_THROTTLE_LIMIT=100000
PORTCULLIS_MAX_SESSIONS_PER_USER=1000
EOF
}
pg_env=$tmp/pg.env
sqlite_env=$tmp/sqlite.env
write_env "$pg_env" "postgresql://portcullis_app@/portcullis?host=$pgdir&port=$pg_port" \
    "postgresql://portcullis_owner@/portcullis?host=$pgdir&port=$pg_port"
write_env "$sqlite_env" "sqlite://$tmp/bench.db"
"$portcullis" migrate --env-file "$pg_env" >"$tmp/migrate-pg.log" 2>&1 ||
    { cat "$tmp/migrate-pg.log" >&2; die "migrate (PostgreSQL) failed"; }
"$portcullis" migrate --env-file "$sqlite_env" >"$tmp/migrate-sqlite.log" 2>&1 ||
    { cat "$tmp/migrate-sqlite.log" >&2; die "migrate (SQLite) failed"; }

start_backend() {  # NAME COMMAND…: a pre-forking FastCGI server on $tmp/NAME.sock, + nginx
    local name=$1
    shift
    "$@" --listen "unix:$tmp/$name.sock" --workers "$workers" >>"$tmp/serve-$name.log" 2>&1 &
    backend_pid[$name]=$!
    started+=("${backend_pid[$name]}")
    wait_children "${backend_pid[$name]}" "$workers" >/dev/null
    start_nginx "$name" "$tmp/$name.sock"
}
start_backend app "$portcullis" serve --env-file "$pg_env"
wait_ready "${base[app]}/api/v1/health" "${backend_pid[app]}" "$tmp/serve-app.log"
start_backend sqlite "$portcullis" serve --env-file "$sqlite_env"
wait_ready "${base[sqlite]}/api/v1/health" "${backend_pid[sqlite]}" "$tmp/serve-sqlite.log"
start_backend probe_list "$probe_list" --env-file "$pg_env"
start_backend probe_me "$probe_me" --env-file "$pg_env"
start_backend hello "$fcgi_hello"
wait_ready "${base[hello]}/api/hello" "${backend_pid[hello]}" "$tmp/serve-hello.log"

# --- 2. seeding through the API ------------------------------------------------------------------

password='correct horse battery staple 42'

session_cookie() {  # HEADER_FILE → the __Host-portcullis value
    tr -d '\r' <"$1" | awk 'tolower($1) == "set-cookie:" && $2 ~ /^__Host-portcullis=/ {
        v = $2; sub(/^__Host-portcullis=/, "", v); sub(/;.*$/, "", v); print v; exit }'
}

# account BASE EMAIL DIR: registers EMAIL (a tenant of its own) and logs in; DIR/cookie and
# DIR/csrf hold the session.
account() {
    local b=$1 email=$2 dir=$3 code
    mkdir -p "$dir"
    code=$(curl -sS --max-time 20 -o "$dir/register.json" -w '%{http_code}' \
        -H 'Content-Type: application/json' --data-raw \
        "{\"tenant_name\":\"Bench $email\",\"email\":\"$email\",\"password\":\"$password\",\"display_name\":\"Bench\"}" \
        "$b/api/v1/auth/register") || true
    [[ $code == 201 ]] || die "register $email answered $code: $(head -c 300 "$dir/register.json")"
    code=$(curl -sS --max-time 20 -o "$dir/login.json" -D "$dir/login.headers" -w '%{http_code}' \
        -H 'Content-Type: application/json' \
        --data-raw "{\"email\":\"$email\",\"password\":\"$password\"}" "$b/api/v1/auth/login") || true
    [[ $code == 200 ]] || die "login $email answered $code: $(head -c 300 "$dir/login.json")"
    session_cookie "$dir/login.headers" >"$dir/cookie"
    jq -r .csrf_token "$dir/login.json" >"$dir/csrf"
    [[ -s $dir/cookie && -s $dir/csrf ]] || die "no session for $email"
}

content="Notes of the week: the quarterly review moved to Thursday; bring the figures for the"
content+=" north region and the draft of the hiring plan. Ask about the new badge readers and"
content+=" the parking changes. Remember the dentist on Friday at 4 pm, the car service next"
content+=" Tuesday, and that the library books are due. Gift ideas: a good kitchen knife, the"
content+=" second volume of the series, or tickets for the spring concert. Keep receipts."

seed_tenant() {  # I: the owner of tenant I and its memories
    local i=$1
    local dir=$tmp/tenant-$i
    account "${base[app]}" "pg-bench-$i@example.test" "$dir"
    local body
    body=$(jq -cn --arg t "Memory of tenant $i" --arg c "$content" --arg g "tenant-$i" \
        '{title: $t, content: $c, tags: ["bench", $g]}')
    timeout 600 curl -sS --parallel --parallel-max 4 --max-time 30 -w '\n%{http_code}\n' \
        -H "Cookie: __Host-portcullis=$(cat "$dir/cookie")" \
        -H "X-CSRF-Token: $(cat "$dir/csrf")" -H 'Content-Type: application/json' \
        --data-raw "$body" "${base[app]}/api/v1/memories?n=[1-$memories]" \
        >"$dir/seed.out" 2>"$dir/seed.err" || true
    grep -cx 201 "$dir/seed.out" >"$dir/seed.ok" || true
}

echo
echo "== seeding: $tenants tenants x $memories memories through the API (POST /api/v1/memories)"
seed_start=$(date +%s.%N)
seed_pids=()
for ((i = 1; i <= tenants; i++)); do
    seed_tenant "$i" &
    seed_pids+=($!)
    if ((${#seed_pids[@]} == 2 || i == tenants)); then
        wait "${seed_pids[@]}" || true  # (a bare `wait` would wait for the servers too)
        seed_pids=()
    fi
done
seed_secs=$(awk -v a="$seed_start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
seeded=0
for ((i = 1; i <= tenants; i++)); do
    ok=$(cat "$tmp/tenant-$i/seed.ok" 2>/dev/null || echo 0)
    if [[ $ok != "$memories" ]]; then
        head -n 3 "$tmp/tenant-$i/seed.err" >&2 || true
        grep -vx 201 "$tmp/tenant-$i/seed.out" | grep . | sort | uniq -c | head -n 5 >&2 || true
        die "tenant $i: $ok of $memories creates answered 201"
    fi
    seeded=$((seeded + ok))
done
echo "   $seeded memories created (all 201) in ${seed_secs}s ($(awk -v n="$seeded" -v s="$seed_secs" \
    'BEGIN {printf "%.0f", n / s}') creates/s, 8 at a time)"
count=$(psql_as portcullis_owner portcullis -tAc "SELECT count(*) FROM memories")
echo "   rows in memories (owner's view): $count"

# Each tenant's cursor after 980 rows (page 50 of 20): 9 pages of 100, then 4 of 20.
cursor_after_980() {  # I
    local i=$1 cookie cursor="" step url
    cookie=$(cat "$tmp/tenant-$i/cookie")
    for step in 100 100 100 100 100 100 100 100 100 20 20 20 20; do
        url="${base[app]}/api/v1/memories?limit=$step${cursor:+&cursor=$cursor}"
        cursor=$(curl -sS --max-time 10 -H "Cookie: __Host-portcullis=$cookie" "$url" |
            jq -r '.page.next_cursor // empty')
        [[ -n $cursor ]] || die "tenant $i: no next_cursor at $url"
    done
    echo "$cursor"
}
for ((i = 1; i <= tenants; i++)); do
    cursor_after_980 "$i" >"$tmp/tenant-$i/cursor50"
done

# The plan PostgreSQL picks for each tenant's page 1 and page 50 (custom plan, literals, as the
# app's SOCI statements and pg_probe_list get): scan, planning and execution time.
cursor_id() {  # CURSOR → the id it names (base64url of "<id>.<mac>")
    local c=$1
    c=$(tr '_-' '/+' <<<"$c")
    while ((${#c} % 4)); do c+="="; done
    base64 -d <<<"$c" 2>/dev/null | head -c 36
}
echo
echo "== plans of the list query per tenant (EXPLAIN ANALYZE as the app role, tenant bound)"
for ((i = 1; i <= tenants; i++)); do
    t=$(jq -r .tenant.id "$tmp/tenant-$i/login.json")
    b50=$(cursor_id "$(cat "$tmp/tenant-$i/cursor50")")
    for page in 1 50; do
        b=ffffffff-ffff-ffff-ffff-ffffffffffff
        [[ $page == 50 ]] && b=$b50
        psql_as portcullis_app portcullis -tA >"$tmp/plan.txt" 2>&1 <<SQL || true
BEGIN;
SELECT set_config('portcullis.tenant_id', '$t', true) \g /dev/null
EXPLAIN ANALYZE SELECT m.id, m.context_id, m.title, m.content_enc, CAST(m.tags AS TEXT), m.created_by, m.created_at, m.updated_at FROM memories m WHERE m.tenant_id = '$t' AND m.id < '$b' ORDER BY m.id DESC LIMIT 21;
ROLLBACK;
SQL
        printf '   tenant %2d page %2d: %s; %s; %s\n' "$i" "$page" \
            "$(grep -m1 -oE '(Index|Seq|Bitmap)[A-Za-z ]* on [a-z_]+|Index Scan[A-Za-z ]* using [a-z_]+' "$tmp/plan.txt")" \
            "$(grep -m1 -oE 'Planning Time: [0-9.]+ ms' "$tmp/plan.txt")" \
            "$(grep -m1 -oE 'Execution Time: [0-9.]+ ms' "$tmp/plan.txt")"
    done
done

# --- 3. the probes answer what the app answers -----------------------------------------------------

same_answer() {  # LABEL PATH NAME_A NAME_B
    local label=$1 path=$2 a=$3 b=$4 cookie code_a code_b
    cookie=$(cat "$tmp/tenant-1/cookie")
    code_a=$(curl -sS -o "$tmp/cmp-a.json" -w '%{http_code}' -H "Cookie: __Host-portcullis=$cookie" \
        "${base[$a]}$path")
    code_b=$(curl -sS -o "$tmp/cmp-b.json" -w '%{http_code}' -H "Cookie: __Host-portcullis=$cookie" \
        "${base[$b]}$path")
    [[ $code_a == 200 && $code_b == 200 ]] ||
        die "$label: $a answered $code_a, $b answered $code_b ($(head -c 200 "$tmp/cmp-b.json"))"
    if ! cmp -s "$tmp/cmp-a.json" "$tmp/cmp-b.json"; then
        diff <(jq -S . "$tmp/cmp-a.json") <(jq -S . "$tmp/cmp-b.json") | head -n 20 >&2 || true
        die "$label: the probe's answer differs from the app's"
    fi
    echo "   $label: identical bodies ($(wc -c <"$tmp/cmp-a.json") bytes, $(jq '.data | length' \
        "$tmp/cmp-a.json" 2>/dev/null || echo -) rows)"
}
echo
echo "== answers: app vs probe, tenant 1's session"
same_answer "page 1  (limit=20)" "/api/v1/memories?limit=20" app probe_list
same_answer "page 50 (cursor)  " "/api/v1/memories?limit=20&cursor=$(cat "$tmp/tenant-1/cursor50")" \
    app probe_list
same_answer "/me               " "/api/v1/me" app probe_me

# One request at a time (no concurrency): curl's time_total, median of 100 sequential requests
# over one keep-alive connection, page 1 and page 50 of tenant 1, app and probe.
seq_ms() {  # URL
    curl -sS --max-time 60 -o /dev/null -w '%{time_total}\n' -H "Cookie: __Host-portcullis=$(cat \
        "$tmp/tenant-1/cookie")" "$1&n=[1-100]" |
        sort -g | awk '{v[NR] = $1} END {printf "%.2f", v[int((NR + 1) / 2)] * 1000}'
}
echo
echo "== one request at a time (curl, 100 sequential, median ms), tenant 1"
c50=$(cat "$tmp/tenant-1/cursor50")
for name in app probe_list; do
    printf '   %-10s page 1 %6s ms   page 50 %6s ms\n' "$name" \
        "$(seq_ms "${base[$name]}/api/v1/memories?limit=20")" \
        "$(seq_ms "${base[$name]}/api/v1/memories?limit=20&cursor=$c50")"
done

# --- 4. round trips and statements per request ------------------------------------------------------

set_log_statement() {  # all|none
    psql_as postgres postgres -c "ALTER SYSTEM SET log_statement = '$1'" -c "SELECT pg_reload_conf()" \
        >/dev/null
    sleep 0.3
}

declare -A trips stmts
# trace NAME LABEL CURL_ARGS…: N sequential requests (one curl, one keep-alive connection) to
# NAME's nginx while strace follows NAME's workers and log_statement=all is on.
trace() {
    local name=$1 label=$2
    shift 2
    local pids=() p strace_pid log_from out=$tmp/trace-$label
    for p in $(children_of "${backend_pid[$name]}"); do
        pids+=(-p "$p")
    done
    strace -f -qq -e trace=sendto -o "$out.strace" "${pids[@]}" 2>/dev/null &
    strace_pid=$!
    sleep 0.5
    set_log_statement all
    log_from=$(stat -c %s "$pgdir/postgres.log")
    curl -sS --max-time 60 -w '\n%{http_code}\n' "$@" >"$out.curl" 2>&1 || true
    sleep 0.3
    set_log_statement none
    kill -INT "$strace_pid" 2>/dev/null || true
    wait "$strace_pid" 2>/dev/null || true
    local ok
    ok=$(grep -cE '^(200|201)$' "$out.curl" || true)
    [[ $ok == "$trace_n" ]] || echo "   ($label: only $ok of $trace_n answered 2xx)"
    tail -c +"$((log_from + 1))" "$pgdir/postgres.log" |
        grep -E 'LOG:  (statement|execute [^ ]*):' |
        grep -v -E 'ALTER SYSTEM|pg_reload_conf' >"$out.stmts" || true
    trips[$label]=$(awk -v n="$trace_n" 'END {printf "%.2f", NR / n}' "$out.strace")
    stmts[$label]=$(awk -v n="$trace_n" 'END {printf "%.2f", NR / n}' "$out.stmts")
}

echo
echo "== round trips (strace sendto on the workers) and statements (log_statement=all)," \
    "$trace_n sequential requests each"
c1="Cookie: __Host-portcullis=$(cat "$tmp/tenant-1/cookie")"
trace app list -H "$c1" "${base[app]}/api/v1/memories?limit=20&n=[1-$trace_n]"
trace probe_list list_probe -H "$c1" "${base[probe_list]}/api/v1/memories?limit=20&n=[1-$trace_n]"
trace app me -H "$c1" "${base[app]}/api/v1/me?n=[1-$trace_n]"
trace probe_me me_probe -H "$c1" "${base[probe_me]}/api/v1/me?n=[1-$trace_n]"
trace app create -H "$c1" -H "X-CSRF-Token: $(cat "$tmp/tenant-1/csrf")" \
    -H 'Content-Type: application/json' \
    --data-raw '{"title":"traced","content":"one more memory","tags":["trace"]}' \
    "${base[app]}/api/v1/memories?n=[1-$trace_n]"
printf '   %-12s %12s %12s\n' request round_trips statements
for label in list list_probe me me_probe create; do
    printf '   %-12s %12s %12s\n' "$label" "${trips[$label]}" "${stmts[$label]}"
done
for label in list me create; do
    echo "   statements of one app request ($label), as PostgreSQL logged them:"
    n=$(awk -v t="${stmts[$label]}" 'BEGIN {printf "%d", t + 0.5}')
    head -n "$n" "$tmp/trace-$label.stmts" | sed -E 's/^.*LOG:  //; s/^(.{150}).*/\1…/; s/^/      /'
done

# --- 5. wrk, interleaved rounds ------------------------------------------------------------------------

# lua TARGET PATH_KIND: a wrk script whose requests rotate over the tenants' sessions.
make_lua() {  # FILE KIND(list|list50|me)
    local file=$1 kind=$2 i path
    {
        echo "local reqs = {}"
        echo "local specs = {"
        for ((i = 1; i <= tenants; i++)); do
            case $kind in
                list) path="/api/v1/memories?limit=20" ;;
                list50) path="/api/v1/memories?limit=20&cursor=$(cat "$tmp/tenant-$i/cursor50")" ;;
                me) path="/api/v1/me" ;;
            esac
            echo "  {\"$path\", \"__Host-portcullis=$(cat "$tmp/tenant-$i/cookie")\"},"
        done
        echo "}"
        cat <<'LUA'
local n = 0
function init(args)
  for k, s in ipairs(specs) do
    reqs[k] = wrk.format("GET", s[1], {["Cookie"] = s[2]})
  end
end
function request()
  n = n % #reqs + 1
  return reqs[n]
end
LUA
    } >"$file"
}
make_lua "$tmp/list.lua" list
make_lua "$tmp/list50.lua" list50
make_lua "$tmp/me.lua" me
# SQLite: one account of its own.
account "${base[sqlite]}" "pg-bench-sqlite@example.test" "$tmp/sqlite-account"
cat >"$tmp/me_sqlite.lua" <<EOF
wrk.headers["Cookie"] = "__Host-portcullis=$(cat "$tmp/sqlite-account/cookie")"
EOF

targets=(list list_p list50 list50_p me me_p me_sqlite hello)
declare -A t_url t_lua
t_url[list]=${base[app]}/ t_lua[list]=$tmp/list.lua
t_url[list_p]=${base[probe_list]}/ t_lua[list_p]=$tmp/list.lua
t_url[list50]=${base[app]}/ t_lua[list50]=$tmp/list50.lua
t_url[list50_p]=${base[probe_list]}/ t_lua[list50_p]=$tmp/list50.lua
t_url[me]=${base[app]}/ t_lua[me]=$tmp/me.lua
t_url[me_p]=${base[probe_me]}/ t_lua[me_p]=$tmp/me.lua
t_url[me_sqlite]=${base[sqlite]}/api/v1/me t_lua[me_sqlite]=$tmp/me_sqlite.lua
t_url[hello]=${base[hello]}/api/hello t_lua[hello]=

to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
        printf "%.2f", n }'
}
median() {
    printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1}
        END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "n/a" }'
}

declare -A rps p50 p99 errors requests
run_wrk() {  # TARGET DURATION [wrk options…]
    local t=$1 d=$2
    shift 2
    local args=()
    [[ -n ${t_lua[$t]} ]] && args=(-s "${t_lua[$t]}")
    wrk "${args[@]}" -t"$threads" -c"$connections" -d"$d" "$@" "${t_url[$t]}"
}

echo
echo "== wrk -t$threads -c$connections -d$duration --latency, $rounds interleaved round(s)," \
    "after a $warmup warm-up each; requests rotate over the $tenants tenants' sessions"
for t in "${targets[@]}"; do
    run_wrk "$t" "$warmup" >/dev/null
done
for ((round = 1; round <= rounds; round++)); do
    for t in "${targets[@]}"; do
        out=$tmp/wrk-$t-$round.txt
        run_wrk "$t" "$duration" --latency >"$out"
        r=$(awk '/^Requests\/sec:/ {print $2}' "$out")
        [[ -n $r ]] || { cat "$out" >&2; die "could not parse wrk output for $t"; }
        rps[$t]+=" $r"
        p50[$t]+=" $(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")"
        p99[$t]+=" $(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")"
        requests[$t]=$((${requests[$t]:-0} + $(awk '/requests in/ {print $1}' "$out")))
        errors[$t]=$((${errors[$t]:-0} + $(awk '
            /Non-2xx or 3xx responses:/ { e += $NF }
            /Socket errors:/ { gsub(/,/, ""); e += $4 + $6 + $8 + $10 }
            END { print e + 0 }' "$out")))
        printf '   round %d %-10s %10s req/s  p50 %7s ms  p99 %7s ms\n' "$round" "$t" "$r" \
            "$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")" \
            "$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")"
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# --- 6. issue #4's figures: 1 000 000 memories, the list query with and without its index -----------

if [[ ${BENCH_PG_SKIP_BIG:-0} != 1 ]]; then
    echo
    echo "== $big_rows memories inserted with SQL (generate_series, as the owner; measures the" \
        "query, not the API)"
    big_tenants=20
    per=$((big_rows / big_tenants))
    big_start=$(date +%s.%N)
    psql_as portcullis_owner portcullis <<SQL
DO \$\$
DECLARE t uuid;
BEGIN
  FOR k IN 1..$big_tenants LOOP
    t := gen_random_uuid();
    INSERT INTO tenants (id, name, created_at, updated_at) VALUES (t, 'big ' || k, now(), now());
    PERFORM set_config('portcullis.tenant_id', t::text, true);
    INSERT INTO memories (id, tenant_id, title, content_enc, tags, created_at, updated_at)
      SELECT gen_random_uuid(), t, 'memory ' || g, 'v1.k1.dummy', '["bench"]', now(), now()
      FROM generate_series(1, $per) AS g;
  END LOOP;
END
\$\$;
ANALYZE memories;
SQL
    echo "   inserted in $(awk -v a="$big_start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')s;" \
        "$(psql_as portcullis_owner portcullis -tAc "SELECT count(*) FROM memories") rows in memories"
    big_tenant=$(psql_as portcullis_owner portcullis -tAc "SELECT id FROM tenants WHERE name = 'big 1'")
    # The keyset bound of page 1000: the id after which page 1000 starts (19 980 rows newer).
    page1000_before=$(psql_as portcullis_owner portcullis -tA <<SQL | tail -n 1
BEGIN;
SELECT set_config('portcullis.tenant_id', '$big_tenant', true) \\g /dev/null
SELECT id FROM memories WHERE tenant_id = '$big_tenant' ORDER BY id DESC OFFSET 19979 LIMIT 1;
COMMIT;
SQL
)
    query() {  # BEFORE_ID [prepared]
        if [[ ${2:-} == prepared ]]; then
            echo "EXPLAIN (ANALYZE) EXECUTE pq('$big_tenant', '$1', 21);"
            return
        fi
        echo "EXPLAIN (ANALYZE) SELECT m.id, m.context_id, m.title, m.content_enc," \
            "CAST(m.tags AS TEXT), m.created_by, m.created_at, m.updated_at FROM memories m" \
            "WHERE m.tenant_id = '$big_tenant' AND m.id < '$1' ORDER BY m.id DESC LIMIT 21;"
    }
    # explain_median LABEL SETUP_SQL BEFORE_ID: 1 warm-up + 5 timed EXPLAIN ANALYZE in one
    # transaction (rolled back), as the owner under FORCE'd RLS with the tenant bound.
    explain_median() {  # LABEL SETUP BEFORE [prepared]
        local label=$1 setup=$2 before=$3 how=${4:-} out=$tmp/explain-$1.txt
        {
            echo "BEGIN;"
            echo "SELECT set_config('portcullis.tenant_id', '$big_tenant', true) \\g /dev/null"
            echo "$setup"
            for _ in 1 2 3 4 5 6; do
                query "$before" "$how"
            done
            echo "ROLLBACK;"
        } | psql_as portcullis_owner portcullis -tA >"$out" 2>&1 ||
            { cat "$out" >&2; die "EXPLAIN ($label) failed"; }
        local ms plan
        # shellcheck disable=SC2046
        ms=$(median $(awk '/Execution Time:/ {print $3}' "$out" | tail -n 5))
        plan=$(awk 'NR == 1 || /Scan|Sort/ {print}' "$out" | grep -E 'Scan|Sort' | head -n 2 |
            sed -E 's/^[ ->]*//; s/  \(cost.*//' | paste -sd ';' -)
        big_ms[$label]=$ms
        printf '   %-22s %10s ms   (%s)\n' "$label" "$ms" "$plan"
    }
    declare -A big_ms
    sentinel=ffffffff-ffff-ffff-ffff-ffffffffffff
    explain_median page1_index "" "$sentinel"
    if [[ -n $page1000_before ]]; then
        explain_median page1000_index "" "$page1000_before"
    fi
    # The same query prepared once with the tenant as a parameter, on the generic plan the plan
    # cache switches to after five executions (what a statement prepared once per connection
    # gets by default; pg_probe_list sets plan_cache_mode = force_custom_plan).
    prepared="SET LOCAL plan_cache_mode = force_generic_plan; PREPARE pq(uuid, uuid, int) AS SELECT m.id, m.context_id, m.title, m.content_enc, CAST(m.tags AS TEXT), m.created_by, m.created_at, m.updated_at FROM memories m WHERE m.tenant_id = \$1 AND m.id < \$2 ORDER BY m.id DESC LIMIT \$3;"
    explain_median page1_generic_plan "$prepared" "$sentinel" prepared
    if [[ -n $page1000_before ]]; then
        explain_median page1000_generic_plan "$prepared" "$page1000_before" prepared
    fi
    explain_median page1_no_tenant_idx "DROP INDEX memories_tenant_id_idx CASCADE;" "$sentinel"
    explain_median page1_no_index_scan "SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_indexonlyscan = off;" "$sentinel"
    if [[ -n $page1000_before ]]; then
        explain_median page1000_no_index_scan "SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_indexonlyscan = off;" "$page1000_before"
    else
        echo "   (page 1000 not measured: $per rows per tenant, fewer than 20 000)"
        big_ms[page1000_index]=n/a
    fi
fi

# --- 7. AES-256-GCM micro-benchmark ------------------------------------------------------------------

aead_line=""
if [[ -x $aead_bench ]]; then
    echo
    echo "== aead_bench (Google Benchmark, 3 repetitions)"
    "$aead_bench" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true 2>&1 |
        tee "$tmp/aead.txt" | grep -E '^BM_|^-|^Benchmark' || true
    aead_line=$(awk '/^BM_Aes256Gcm(SealOpen|Open)1KiB_median/ {
        n = $1; sub(/^BM_Aes256Gcm/, "", n); sub(/1KiB_median$/, "", n)
        printf "%s%s %s %s wall, %s %s CPU", sep, (n == "Open") ? "decrypt only" : "encrypt + decrypt", $2, $3, $4, $5
        sep = "; " }' "$tmp/aead.txt")
else
    echo "pg-bench: $aead_bench not built: AES-256-GCM figure not measured" >&2
fi

# --- report --------------------------------------------------------------------------------------

echo
echo "== results (PostgreSQL $($pg_bin/postgres --version | awk '{print $3}'), RLS on, $tenants" \
    "tenants x $memories memories; medians of $rounds interleaved round(s) of $duration," \
    "wrk -t$threads -c$connections; load average after the runs: $load_after)"
printf '%-10s %10s %9s %9s %9s %7s  %s\n' target req/s p50_ms p99_ms requests errors what
declare -A med
for t in "${targets[@]}"; do
    # shellcheck disable=SC2086
    med[$t]=$(median ${rps[$t]})
    case $t in
        list) what="app GET /api/v1/memories?limit=20 (PostgreSQL)" ;;
        list_p) what="pg_probe_list, same request" ;;
        list50) what="app, page 50 (cursor after 980 rows)" ;;
        list50_p) what="pg_probe_list, page 50" ;;
        me) what="app GET /api/v1/me (PostgreSQL)" ;;
        me_p) what="pg_probe_me" ;;
        me_sqlite) what="app GET /api/v1/me on SQLite" ;;
        hello) what="fcgi_hello (no database)" ;;
    esac
    # shellcheck disable=SC2086
    printf '%-10s %10s %9s %9s %9s %7s  %s\n' "$t" "${med[$t]}" "$(median ${p50[$t]})" \
        "$(median ${p99[$t]})" "${requests[$t]}" "${errors[$t]}" "$what"
done
# shellcheck disable=SC2086
list_p99=$(median ${p99[list]})
verdict() {  # VALUE OP GOAL
    awk -v v="$1" -v op="$2" -v g="$3" 'BEGIN {
        if (v == "n/a" || v == "") { print "n/a"; exit }
        ok = (op == ">=") ? (v + 0 >= g + 0) : (v + 0 <= g + 0); print ok ? "met" : "NOT met" }'
}
echo
printf '%-52s %9s  %-14s %s\n' figure value goal verdict
row() {  # LABEL VALUE OP GOAL
    printf '%-52s %9s  %-14s %s\n' "$1" "$2" "$3 $4" "$(verdict "$2" "$3" "$4")"
}
row "list / pg_probe_list (req/s)" "$(ratio "${med[list]}" "${med[list_p]}")" ">=" 0.8
row "me / pg_probe_me (req/s)" "$(ratio "${med[me]}" "${med[me_p]}")" ">=" 0.8
row "me on SQLite / fcgi_hello (req/s)" "$(ratio "${med[me_sqlite]}" "${med[hello]}")" ">=" 0.5
row "me on PostgreSQL / fcgi_hello (req/s)" "$(ratio "${med[me]}" "${med[hello]}")" ">=" 0.5
row "list p99 at c$connections (ms)" "$list_p99" "<=" 20
row "list page 50 time / page 1 time (1/req/s ratio)" "$(ratio "${med[list]}" "${med[list50]}")" "<=" 1.2
row "probe page 50 / page 1 (same)" "$(ratio "${med[list_p]}" "${med[list50_p]}")" "<=" 1.2
row "round trips per list request (app)" "${trips[list]}" "<=" 2
row "round trips per /me request (app)" "${trips[me]}" "<=" 2
echo "round trips / statements per request: list ${trips[list]} / ${stmts[list]}," \
    "me ${trips[me]} / ${stmts[me]}, create ${trips[create]} / ${stmts[create]} (app);" \
    "probes: list ${trips[list_probe]} / ${stmts[list_probe]}, me ${trips[me_probe]} / ${stmts[me_probe]}"
if [[ ${BENCH_PG_SKIP_BIG:-0} != 1 ]]; then
    echo "list query at $big_rows memories (SQL level, EXPLAIN ANALYZE, median of 5):" \
        "page 1 with index ${big_ms[page1_index]} ms; without memories_tenant_id_idx" \
        "${big_ms[page1_no_tenant_idx]} ms ($(ratio "${big_ms[page1_no_tenant_idx]}" "${big_ms[page1_index]}")x);" \
        "no index scan at all ${big_ms[page1_no_index_scan]} ms" \
        "($(ratio "${big_ms[page1_no_index_scan]}" "${big_ms[page1_index]}")x; seed claims 50-100x);" \
        "page 1000 ${big_ms[page1000_index]} ms ($(ratio "${big_ms[page1000_index]}" "${big_ms[page1_index]}")x page 1);" \
        "prepared once on the generic plan: page 1 ${big_ms[page1_generic_plan]} ms," \
        "page 1000 ${big_ms[page1000_generic_plan]:-n/a} ms"
fi
if [[ -n $aead_line ]]; then
    echo "AES-256-GCM of 1 KiB (FieldCipher, aead_bench medians): $aead_line"
fi
