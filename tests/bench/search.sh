#!/usr/bin/env bash
# portcullis search benchmark (issue 12; part of `make bench`).
#
#   tests/bench/search.sh REPO_DIR BUILD_DIR
#
# BUILD_DIR (absolute, or relative to the current directory or to REPO_DIR) must hold a
# portcullis binary (a Release build: `make bench` builds one).
#
# For each backend (SQLite, then PostgreSQL in a private cluster as tests/bench/pg.sh makes it:
# fsync=off, the owner and app roles, row-level security on):
#   1. `portcullis serve` (BENCH_WORKERS, 4) behind nginx (nginx/render-dev.sh), one tenant
#      registered and logged in with curl.
#   2. Seeding BENCH_SEARCH_MEMORIES (100 000) memories into that tenant, each with a 3-word
#      title and a BENCH_SEARCH_WORDS-word (12) content drawn from a fixed 5 000-word vocabulary
#      with a Zipf-like law (the commonest word is in most memories, most words are rare).
#      BENCH_SEARCH_SEED=store (default): tests/bench/search_seed (two processes at once) writes
#      them through the store's own functions in transactions of 5 000 (the same encryption, tag row and
#      blind-index rows as a create; only HTTP is skipped). BENCH_SEARCH_SEED=api: through
#      nginx with POST /api/v1/memories by wrk (tests/bench/search_seed.lua, -t2 -c4), which
#      takes many minutes at 100 000. The rows actually in the database are counted
#      afterwards. PostgreSQL then gets VACUUM ANALYZE of the three tables (what autovacuum
#      would do after such a load).
#   3. 100 queries of varied words (single common, middle and rare words; two and three words;
#      a prefix as the last word; with the tag filter), POST /api/v1/memories/search {q, limit:
#      20}, sequential over one keep-alive connection (one curl), once to warm up and once
#      measured: p50 and p99 of curl's time_total, the statuses, and the spread of totals.
#      Goal: p99 <= 50 ms on both backends.
#
# Reports figures only; the exit status is non-zero only when the benchmark itself could not
# run. Everything lives in private `mktemp -d` directories removed at the end; the trap stops
# only the processes this script started, by PID.
#
# Knobs: BENCH_SEARCH_MEMORIES (100000), BENCH_SEARCH_WORDS (12), BENCH_WORKERS (4),
# BENCH_SEARCH_BACKENDS ("sqlite postgresql"), BENCH_SEARCH_SEED (store | api),
# BENCH_SEARCH_SEED_CONNECTIONS (4, api seeding).
set -euo pipefail

die() {
    echo "search-bench: $*" >&2
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
portcullis=$build/portcullis
[[ -x $portcullis ]] || die "not built: $portcullis"
for tool in wrk nginx curl awk jq sqlite3; do
    command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install $tool)"
done
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

memories=${BENCH_SEARCH_MEMORIES:-100000}
content_words=${BENCH_SEARCH_WORDS:-12}
workers=${BENCH_WORKERS:-4}
seed_connections=${BENCH_SEARCH_SEED_CONNECTIONS:-4}
seed_mode=${BENCH_SEARCH_SEED:-store}
[[ $seed_mode == store || $seed_mode == api ]] || die "BENCH_SEARCH_SEED is store or api"
seeder=$build/tests/bench/search_seed
[[ $seed_mode == api || -x $seeder ]] || die "not built: $seeder"
backends=${BENCH_SEARCH_BACKENDS:-sqlite postgresql}
for n in "$memories" "$content_words" "$workers"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || die "BENCH_* counts must be positive integers: $n"
done

while read -r var; do
    if [[ $var == PORTCULLIS_* ]]; then
        unset "$var"
    fi
done < <(compgen -e)
unset CREDENTIALS_DIRECTORY LISTEN_FDS LISTEN_PID NOTIFY_SOCKET

tmp=$(mktemp -d "${TMPDIR:-/tmp}/portcullis-searchbench.XXXXXX")
chmod 0755 "$tmp"
pgdir=""
as_pg=()
started=()

alive() {
    local line state
    { read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
    read -r state _ <<<"${line##*) }"
    [[ $state != Z ]]
}

stop_pid() {
    local pid=$1 i
    if alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 300; i++)); do
            alive "$pid" || break
            sleep 0.1
        done
        alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

stop_all() {
    local pid
    for pid in "${started[@]+"${started[@]}"}"; do
        stop_pid "$pid"
    done
    started=()
    if [[ -n $pgdir && -f $pgdir/data/postmaster.pid ]]; then
        "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pgdir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_all
    if [[ $rc -ne 0 ]]; then
        for f in "$tmp"/*/serve.log "$tmp"/*/nginx/error.log; do
            [[ -s $f ]] || continue
            echo "--- last lines of $f ---" >&2
            tail -n 15 "$f" >&2
        done
    fi
    rm -rf -- "$tmp"
    [[ -n $pgdir ]] && rm -rf -- "$pgdir"
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

wait_ready() {  # URL PID
    local code=
    for _ in $(seq 300); do
        alive "$2" || die "PID $2 exited before $1 answered"
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1" || true)
        [[ $code == 200 ]] && return 0
        sleep 0.1
    done
    die "$1 did not answer 200 within 30 s (last: $code)"
}

percentile() {  # P FILE (one number a line) → the P-th percentile (nearest rank)
    sort -n "$2" | awk -v p="$1" '{ v[NR] = $1 } END {
        if (NR == 0) { print "n/a"; exit }
        r = int((p / 100) * NR + 0.999999); if (r < 1) r = 1; if (r > NR) r = NR; print v[r] }'
}

# --- the vocabulary and the queries (the same for both backends) ---------------------------------

# 5 000 distinct pseudo-words of 2 to 4 syllables, in a fixed order (awk's srand(42)).
awk 'BEGIN {
    split("ka lo mi ne ru sa te vo pi da gu be fa ho ji ly mu no qui re si tu ve wa xo ze an el or ul", s, " ")
    n = 0; srand(42)
    while (n < 5000) {
        k = 2 + int(rand() * 3); w = ""
        for (i = 0; i < k; i++) w = w s[1 + int(rand() * 32)]
        if (!(w in seen)) { seen[w] = 1; print w; n++ }
    }
}' >"$tmp/vocab.txt"

# 100 queries: a word of rank r is drawn as in the seed, or by rank band on purpose.
awk -v seed=7 'BEGIN { srand(seed) }
    { w[NR] = $0 }
    END {
        V = NR
        for (q = 1; q <= 100; q++) {
            if (q <= 15)      s = w[1 + int(rand() * 10)]                  # common (top 10)
            else if (q <= 35) s = w[11 + int(rand() * 490)]                # middle (11-500)
            else if (q <= 50) s = w[501 + int(rand() * 4499)]              # rare
            else if (q <= 70) s = w[1 + int(rand() * 50)] " " w[51 + int(rand() * 950)]
            else if (q <= 80) s = w[1 + int(rand() * 10)] " " w[1 + int(rand() * 10)] " " \
                                   w[1 + int(rand() * 200)]
            else if (q <= 95) { x = w[1 + int(rand() * 1000)]; s = substr(x, 1, 3 + int(rand() * 3)) }
            else              { x = w[1 + int(rand() * 100)];
                                s = w[1 + int(rand() * 20)] " " substr(x, 1, 4) }
            tag = (q % 10 == 0) ? ",\"tag\":\"BENCH\"" : ""
            printf "{\"q\":\"%s\",\"limit\":20%s}\n", s, tag
        }
    }' "$tmp/vocab.txt" >"$tmp/queries.jsonl"

password='correct horse battery staple 42'
secret_key=$("$portcullis" gen-secret)
data_key=$("$portcullis" gen-secret)

session_cookie() {  # HEADER_FILE → the __Host-portcullis value
    tr -d '\r' <"$1" | awk 'tolower($1) == "set-cookie:" && $2 ~ /^__Host-portcullis=/ {
        v = $2; sub(/^__Host-portcullis=/, "", v); sub(/;.*$/, "", v); print v; exit }'
}

start_pg() {  # → DB URL, OWNER URL in pg_url, pg_owner_url
    [[ -x $pg_bin/initdb ]] || die "PostgreSQL server binaries not found under /usr/lib/postgresql"
    pgdir=$(mktemp -d /tmp/portcullis-searchbench-pg.XXXXXX)
    if [[ $EUID -eq 0 ]]; then
        chown postgres:postgres "$pgdir"
        as_pg=(runuser -u postgres --)
    fi
    local port
    port=$(free_port)
    "${as_pg[@]}" "$pg_bin/initdb" -D "$pgdir/data" -U postgres -A trust --no-sync \
        --encoding=UTF8 --locale=C.UTF-8 >"$tmp/initdb.log" 2>&1 ||
        { cat "$tmp/initdb.log" >&2; die "initdb failed"; }
    "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pgdir/data" -l "$pgdir/postgres.log" -w start \
        -o "-c listen_addresses='' -k $pgdir -p $port -c fsync=off -c full_page_writes=off -c shared_buffers=256MB" \
        >/dev/null || die "the cluster did not start"
    psql_pg=("$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$pgdir" -p "$port")
    "${psql_pg[@]}" -U postgres -d postgres <<SQL
CREATE ROLE portcullis_owner LOGIN;
CREATE ROLE portcullis_app LOGIN NOBYPASSRLS;
CREATE DATABASE portcullis OWNER portcullis_owner;
SQL
    "${psql_pg[@]}" -U postgres -d portcullis <<SQL
REVOKE ALL ON SCHEMA public FROM PUBLIC;
ALTER SCHEMA public OWNER TO portcullis_owner;
GRANT USAGE ON SCHEMA public TO portcullis_app;
ALTER DEFAULT PRIVILEGES FOR ROLE portcullis_owner IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO portcullis_app;
SQL
    pg_url="postgresql://portcullis_app@/portcullis?host=$pgdir&port=$port"
    pg_owner_url="postgresql://portcullis_owner@/portcullis?host=$pgdir&port=$port"
}

declare -A result

count_rows() {  # BACKEND TABLE (as the owner; SQLite read beside the server, WAL)
    if [[ $1 == postgresql ]]; then
        "${psql_pg[@]}" -U portcullis_owner -d portcullis -Atc "SELECT COUNT(*) FROM $2"
    else
        sqlite3 "$tmp/sqlite/bench.db" "SELECT COUNT(*) FROM $2"
    fi
}

seed_api() {  # BACKEND BASE COOKIE CSRF DIR: through nginx with wrk
    local backend=$1 base=$2 cookie=$3 csrf=$4 dir=$5
    echo "== $backend: seeding $memories memories through nginx (wrk -t2 -c$seed_connections," \
        "POST /api/v1/memories)"
    BENCH_VOCAB=$tmp/vocab.txt BENCH_PER_THREAD=$(((memories + 1) / 2)) \
        BENCH_WORDS=$content_words BENCH_COOKIE=$cookie BENCH_CSRF=$csrf \
        wrk -t2 -c"$seed_connections" -d2h --timeout 30s -s "$repo/tests/bench/search_seed.lua" \
        "$base" >"$dir/seed.log" 2>&1 &
    local wrk_pid=$!
    started+=("$wrk_pid")
    # wrk's threads stop sending once they have created their share; wrk itself only ends at
    # its duration, so it is stopped here once the count has stood still for 6 s.
    local count=-1 last=-2 still=0
    while alive "$wrk_pid"; do
        sleep 2
        count=$(count_rows "$backend" memories)
        if [[ $count == "$last" ]]; then
            still=$((still + 1))
            ((still >= 3)) && break
        else
            still=0
        fi
        last=$count
    done
    stop_pid "$wrk_pid"
}

run_backend() {  # sqlite | postgresql
    local backend=$1 dir=$tmp/$1 url owner_url=""
    mkdir -p "$dir/nginx"
    if [[ $backend == postgresql ]]; then
        start_pg
        url=$pg_url
        owner_url=$pg_owner_url
    else
        url="sqlite://$dir/bench.db"
    fi
    cat >"$dir/env" <<EOF
PORTCULLIS_ENV=development
PORTCULLIS_VAR_DIR=$dir/var
PORTCULLIS_DATABASE_URL=$url
PORTCULLIS_DATABASE_OWNER_URL=$owner_url
PORTCULLIS_SECRET_KEY=$secret_key
PORTCULLIS_DATA_KEYS=k1:$data_key
PORTCULLIS_LOG_LEVEL=warning
PORTCULLIS_MIGRATIONS_DIR=$repo/db/migrations
PORTCULLIS_IP_THROTTLE_LIMIT=100000
EOF
    "$portcullis" migrate --env-file "$dir/env" >"$dir/migrate.log" 2>&1 ||
        { cat "$dir/migrate.log" >&2; die "migrate ($backend) failed"; }
    "$portcullis" serve --env-file "$dir/env" --listen "unix:$dir/fcgi.sock" \
        --workers "$workers" >>"$dir/serve.log" 2>&1 &
    started+=($!)
    local serve_pid=$!
    local port
    port=$(free_port)
    bash "$repo/nginx/render-dev.sh" "$dir/nginx/nginx.conf" "$dir/nginx" "$port" \
        "$dir/fcgi.sock" 100000r/s 100000 >/dev/null
    nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/nginx/error.log" \
        >"$dir/nginx/stdout.log" 2>&1 &
    started+=($!)
    local base=http://127.0.0.1:$port
    wait_ready "$base/api/v1/health" "$serve_pid"

    local email="search-bench@example.test" code
    code=$(curl -sS -o "$dir/register.json" -w '%{http_code}' -H 'Content-Type: application/json' \
        --data-raw "{\"tenant_name\":\"Search bench\",\"email\":\"$email\",\"password\":\"$password\",\"display_name\":\"Bench\"}" \
        "$base/api/v1/auth/register") || true
    [[ $code == 201 ]] || die "register answered $code: $(head -c 300 "$dir/register.json")"
    code=$(curl -sS -o "$dir/login.json" -D "$dir/login.headers" -w '%{http_code}' \
        -H 'Content-Type: application/json' \
        --data-raw "{\"email\":\"$email\",\"password\":\"$password\"}" "$base/api/v1/auth/login") || true
    [[ $code == 200 ]] || die "login answered $code"
    local cookie csrf
    cookie=$(session_cookie "$dir/login.headers")
    csrf=$(jq -r .csrf_token "$dir/login.json")

    echo
    local t0 t1
    t0=$(date +%s.%N)
    if [[ $seed_mode == store ]]; then
        echo "== $backend: seeding $memories memories through the store" \
            "(tests/bench/search_seed, two processes)"
        local tenant half=$(((memories + 1) / 2)) p1 p2
        tenant=$(jq -r .tenant.id "$dir/login.json")
        "$seeder" "$dir/env" "$tenant" "$half" "$content_words" "$tmp/vocab.txt" 1 \
            >"$dir/seed1.log" 2>&1 &
        p1=$!
        "$seeder" "$dir/env" "$tenant" $((memories - half)) "$content_words" "$tmp/vocab.txt" 2 \
            >"$dir/seed2.log" 2>&1 &
        p2=$!
        wait "$p1" || { tail -n 20 "$dir/seed1.log" >&2; die "seeding failed"; }
        wait "$p2" || { tail -n 20 "$dir/seed2.log" >&2; die "seeding failed"; }
        t1=$(date +%s.%N)
    else
        seed_api "$backend" "$base" "$cookie" "$csrf" "$dir"
        t1=$(date +%s.%N)
    fi
    grep -E 'Non-2xx|Socket errors' "$dir/seed.log" 2>/dev/null | sed 's/^/   wrk: /' || true
    local rows terms
    if [[ $backend == postgresql ]]; then
        "${psql_pg[@]}" -U portcullis_owner -d portcullis \
            -c "VACUUM ANALYZE memories" -c "VACUUM ANALYZE memory_terms" -c "VACUUM ANALYZE memory_tags" >/dev/null
    fi
    rows=$(count_rows "$backend" memories)
    terms=$(count_rows "$backend" memory_terms)
    echo "   $rows memories, $terms blind-index rows, in $(awk -v a="$t0" -v b="$t1" \
        'BEGIN { printf "%.0f", b - a }') s ($(awk -v n="$rows" -v a="$t0" -v b="$t1" \
        'BEGIN { printf "%.0f", n / (b - a) }') creates/s)"
    result[$backend.rows]=$rows

    # One curl, one keep-alive connection, 100 POSTs in order.
    local cfg=$dir/queries.curl
    : >"$cfg"
    local first=1 body
    while IFS= read -r body; do
        ((first)) || echo "next" >>"$cfg"
        first=0
        {
            echo "url = \"$base/api/v1/memories/search\""
            echo "header = \"Content-Type: application/json\""
            echo "header = \"Cookie: __Host-portcullis=$cookie\""
            echo "header = \"X-CSRF-Token: $csrf\""
            printf 'data-raw = "%s"\n' "$(sed 's/\\/\\\\/g; s/"/\\"/g' <<<"$body")"
            echo "write-out = \"%{http_code} %{time_total}\\n\""
            echo "output = \"/dev/null\""
        } >>"$cfg"
    done <"$tmp/queries.jsonl"
    curl -sS -K "$cfg" >"$dir/warmup.out" 2>&1 || true
    curl -sS -K "$cfg" >"$dir/measured.out" 2>&1 || true
    awk '{ print $2 * 1000 }' "$dir/measured.out" >"$dir/ms"
    local ok n p50 p99 max
    n=$(wc -l <"$dir/measured.out")
    ok=$(awk '$1 == 200' "$dir/measured.out" | wc -l)
    p50=$(percentile 50 "$dir/ms")
    p99=$(percentile 99 "$dir/ms")
    max=$(sort -n "$dir/ms" | tail -n 1)
    # The spread of result sizes (page.total, capped at 1 000), one more pass with bodies.
    local totals=$dir/totals
    : >"$totals"
    while IFS= read -r body; do
        curl -sS -H 'Content-Type: application/json' -H "Cookie: __Host-portcullis=$cookie" \
            -H "X-CSRF-Token: $csrf" --data-raw "$body" "$base/api/v1/memories/search" |
            jq -r '.page.total // "error"' >>"$totals"
    done <"$tmp/queries.jsonl"
    local zero some capped
    zero=$(grep -cx 0 "$totals" || true)
    capped=$(grep -cx 1000 "$totals" || true)
    some=$((n - zero - capped))
    echo "   search: $n queries, $ok answered 200; results: $zero empty, $some with 1-999," \
        "$capped with 1000 or more"
    echo "   search latency (curl time_total, warm): p50 ${p50} ms, p99 ${p99} ms, max ${max} ms"
    echo "   slowest 5 (ms, query):"
    paste -d' ' <(awk '{ print $2 * 1000 }' "$dir/measured.out") "$tmp/queries.jsonl" |
        sort -rn | head -n 5 | sed 's/^/     /'
    result[$backend.p50]=$p50
    result[$backend.p99]=$p99
    result[$backend.ok]=$ok
    stop_all
}

echo "== search benchmark: $(nproc) CPU(s), $workers workers, $memories memories in one tenant," \
    "3 + $content_words words each, 100 queries"
for b in $backends; do
    run_backend "$b"
done

echo
echo "== search summary (goal: p99 <= 50 ms)"
printf '%-12s %10s %10s %10s %8s %s\n' backend memories p50_ms p99_ms ok goal
for b in $backends; do
    goal=$(awk -v p="${result[$b.p99]}" 'BEGIN { print (p + 0 <= 50) ? "met" : "MISSED" }')
    printf '%-12s %10s %10s %10s %8s %s\n' "$b" "${result[$b.rows]}" "${result[$b.p50]}" \
        "${result[$b.p99]}" "${result[$b.ok]}/100" "$goal"
done
