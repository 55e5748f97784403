#!/usr/bin/env bash
# portcullis benchmarks (`make bench`).
#
#   tests/bench/run.sh REPO_DIR BUILD_DIR
#
# BUILD_DIR (absolute, or relative to the current directory or to REPO_DIR) must hold the
# targets portcullis, micro_bench and fcgi_hello, e.g. a build configured with
# -DPORTCULLIS_BUILD_BENCH=ON.
#
#   1. micro_bench (Google Benchmark), 3 repetitions, aggregates only; among them
#      BM_Argon2idVerifyMode/<mode>, one verify_password() at the default Argon2id parameters on
#      one thread in each memory mode (app/auth/passwords.h Argon2Memory), and
#      BM_Argon2idVerifyRaw, libargon2's argon2id_verify on `nproc` threads at once with its
#      memory resident (its median items_per_second is the raw verify rate used below).
#   2. wrk against the real stack on 127.0.0.1, one 2 s warm-up and one 10 s run each
#      (-t2 -c16 --latency; BENCH_ROUNDS=N: N runs each, taking turns, medians reported), all
#      behind the nginx dev config (nginx/render-dev.sh, with the auth limit_req raised to
#      100000r/s so nginx does not throttle the login runs):
#        static  nginx serving /index.html
#        hello   tests/bench/fcgi_hello, 4 workers (the libfcgi ceiling)
#        health  portcullis serve --workers 4, GET /api/v1/health on SQLite
#        me      GET /api/v1/me with the session cookie of one curl login
#        login   POST /api/v1/auth/login, JSON body, the right password (resets the lockout
#                counter; the app's per-IP throttle and session cap are raised in the env file)
#      and the ratios health/hello and me/hello (goal >= 0.5), hello/static, and
#      login/(raw Argon2id verify rate on nproc threads) (goal >= 0.9).
#  2b. Login with MFA: 3 accounts with TOTP on (register, login, totp/setup, totp/enable with
#      an oathtool code → 10 backup codes each), then 30 two-step logins through nginx, one
#      after the other (POST /api/v1/auth/login → mfa_required + MFA-pending cookie, then
#      POST /api/v1/auth/mfa/verify with that cookie, its X-CSRF-Token and one backup code),
#      each followed by one plain password login of an account without MFA for comparison;
#      every step must answer 200 (counted and reported). Round trips/s = successful round
#      trips / the sum of their curl time_total (login + verify), so curl's start-up between
#      requests is not counted; the median ms per round trip; the ratio to the plain
#      logins/s measured the same way, and to wrk's (concurrent) login req/s. jq parses the
#      JSON when installed, grep/sed otherwise.
#   3. Login timing (AUTH-6): BENCH_AUTH_ATTEMPTS (200) logins with a wrong password for known
#      e-mails and as many for unknown ones, alternating, sequential over one keep-alive
#      connection (one curl); medians of curl's time_total and their difference (goal within
#      5 %). PORTCULLIS_LOCKOUT_THRESHOLD=100 and each e-mail gets at most 50 attempts, so every
#      attempt should answer 401 (checked and reported, never hidden).
#   4. Worker RSS: a fresh `portcullis serve`, 10 000 health requests (curl --parallel, 4 at a
#      time), VmRSS of each worker before and after (goal <= 10 MiB); then BENCH_RSS_LOGINS
#      (200) logins (4 at a time): each worker's peak RSS over its life (VmHWM, so during a
#      login; goal <= 32 MiB) and its VmRSS 2 s after them (idle again; goal <= 10 MiB).
#
# Reports figures only; the exit status is non-zero only when the benchmark itself could not
# run (missing tool, a server that does not start), never because of a number.
#
# Everything runs in a private `mktemp -d` directory that is removed at the end; the trap stops
# only the processes this script started (by PID, and the workers it saw under them).
#
# Knobs (environment): BENCH_DURATION (10s), BENCH_WARMUP (2s), BENCH_THREADS (2),
# BENCH_CONNECTIONS (16), BENCH_WORKERS (4), BENCH_ROUNDS (1), BENCH_RSS_REQUESTS (10000),
# BENCH_AUTH_ATTEMPTS (200), BENCH_RSS_LOGINS (200), BENCH_SKIP_MICRO=1 (step 1 runs only the
# Argon2id benchmarks), BENCH_ARGON2_MEMORY (auto; PORTCULLIS_ARGON2_MEMORY of the server:
# per-hash, arena, arena-prefault, arena-hugepages), BENCH_ARGON2_RELEASE (idle;
# PORTCULLIS_ARGON2_RELEASE: after-hash), BENCH_SCENARIOS (all: a comma-separated
# subset of static,hello,health,me,login,mfa,timing,rss; e.g. login,rss).
set -euo pipefail

die() {
    echo "bench: $*" >&2
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
micro_bench=$build/tests/bench/micro_bench
fcgi_hello=$build/tests/bench/fcgi_hello
for exe in "$portcullis" "$micro_bench" "$fcgi_hello"; do
    [[ -x $exe ]] || die "not built: $exe (ninja -C $build portcullis micro_bench fcgi_hello)"
done
for tool in wrk nginx curl awk oathtool; do
    command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install $tool)"
done

duration=${BENCH_DURATION:-10s}
warmup=${BENCH_WARMUP:-2s}
threads=${BENCH_THREADS:-2}
connections=${BENCH_CONNECTIONS:-16}
workers=${BENCH_WORKERS:-4}
rss_requests=${BENCH_RSS_REQUESTS:-10000}
rounds=${BENCH_ROUNDS:-1}
auth_attempts=${BENCH_AUTH_ATTEMPTS:-200}
rss_logins=${BENCH_RSS_LOGINS:-200}
argon2_memory=${BENCH_ARGON2_MEMORY:-auto}
argon2_release=${BENCH_ARGON2_RELEASE:-idle}
scenarios=,${BENCH_SCENARIOS:-static,hello,health,me,login,mfa,timing,rss},
want() { [[ $scenarios == *,$1,* ]]; }
for n in "$threads" "$connections" "$workers" "$rss_requests" "$rounds" "$auth_attempts" \
    "$rss_logins"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || die "BENCH_* counts must be positive integers: $n"
done
# Scenarios left out of BENCH_SCENARIOS send nothing.
want timing || auth_attempts=0

# The app reads PORTCULLIS_* from the environment before its env file: run it on ours only.
while read -r var; do
    if [[ $var == PORTCULLIS_* ]]; then
        unset "$var"
    fi
done < <(compgen -e)
unset CREDENTIALS_DIRECTORY LISTEN_FDS LISTEN_PID NOTIFY_SOCKET

tmp=$(mktemp -d "${TMPDIR:-/tmp}/portcullis-bench.XXXXXX")

# --- process bookkeeping -----------------------------------------------------------------------

started=()  # PIDs this script started and has not stopped yet

# PIDs whose parent is $1 (from /proc/*/stat; the command name may hold spaces and parens, so
# the fields are read after the last ") ").
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

# True while PID runs (a zombie, exited but not yet reaped, does not count).
alive() {
    local line state
    { read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
    read -r state _ <<<"${line##*) }"
    [[ $state != Z ]]
}

# Stops one process we started: SIGTERM, up to 30 s (the app drains), then SIGKILL; then any of
# the children we saw under it that are still there.
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
            echo "bench: PID $pid did not stop on SIGTERM; SIGKILL" >&2
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
    rm -rf -- "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

show_log() {
    [[ -s $1 ]] || return 0
    echo "--- last lines of $(basename -- "$1") ---" >&2
    tail -n 20 -- "$1" >&2
}

# A free TCP port on 127.0.0.1 (nothing answers a connect).
free_port() {
    local port
    for _ in $(seq 100); do
        port=$((20000 + RANDOM % 30000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    die "no free TCP port found"
}

# Waits until URL answers 200, while PID (the server behind it) is alive.
wait_ready() {
    local url=$1 pid=$2 log=$3 code
    for _ in $(seq 150); do
        alive "$pid" || { show_log "$log"; die "server (PID $pid) exited before $url answered"; }
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" || true)
        [[ $code == 200 ]] && return 0
        sleep 0.1
    done
    show_log "$log"
    die "$url did not answer 200 within 15 s (last: $code)"
}

# Waits until PID has N children and prints them.
wait_children() {
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

# The auth endpoints' limit_req (30r/m, burst 20 by default) would turn the login runs into a
# benchmark of nginx's 429: raise it out of the way, for both instances alike.
auth_rate=100000r/s
auth_burst=100000

start_nginx() {  # NAME FCGI_SOCKET → sets nginx_pid, nginx_port
    local name=$1 socket=$2
    nginx_port=$(free_port)
    local prefix=$tmp/nginx-$name
    bash "$repo/nginx/render-dev.sh" "$prefix/nginx.conf" "$prefix" "$nginx_port" "$socket" \
        "$auth_rate" "$auth_burst" >/dev/null
    nginx -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/error.log" \
        >"$prefix/stdout.log" 2>&1 &
    nginx_pid=$!
    started+=("$nginx_pid")
    wait_ready "http://127.0.0.1:$nginx_port/index.html" "$nginx_pid" "$prefix/error.log"
}

start_serve() {  # → sets serve_pid (the master)
    "$portcullis" serve --env-file "$env_file" --listen "unix:$tmp/app.sock" \
        --workers "$workers" >>"$tmp/serve.log" 2>&1 &
    serve_pid=$!
    started+=("$serve_pid")
}

# --- wrk helpers -------------------------------------------------------------------------------

# Latency as wrk prints it (123.45us, 1.23ms, 2.00s, 1.00m) → milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
        printf "%.2f", n }'
}

# Median of the numbers given as arguments.
median() {
    printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1}
        END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

declare -A url rps p50 p99 errors requests  # per target; figures are space-separated, one per run
declare -A script                            # per target: a wrk Lua script (method, body, headers)
declare -A label                             # per target: what the run sends, for the headings

# run_wrk NAME DURATION [wrk options…]: wrk on NAME's URL, with its Lua script if it has one.
run_wrk() {
    local name=$1 dur=$2
    shift 2
    local args=()
    if [[ -n ${script[$name]:-} ]]; then
        args=(-s "${script[$name]}")
    fi
    wrk "${args[@]}" -t"$threads" -c"$connections" -d"$dur" "$@" "${url[$name]}"
}

# measure NAME ROUND: one wrk run, its output shown and parsed.
measure() {
    local name=$1 round=$2 out=$tmp/wrk-$1-$2.txt
    echo
    echo "== wrk: $name, run $round of $rounds (${label[$name]:-GET ${url[$name]}})"
    run_wrk "$name" "$duration" --latency >"$out"
    sed 's/^/    /' "$out"
    local r
    r=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    [[ -n $r ]] || die "could not parse wrk output for $name"
    rps[$name]+=" $r"
    p50[$name]+=" $(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")"
    p99[$name]+=" $(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")"
    requests[$name]=$((${requests[$name]:-0} + $(awk '/requests in/ {print $1}' "$out")))
    # Non-2xx/3xx answers plus socket errors (connect, read, write, timeout).
    errors[$name]=$((${errors[$name]:-0} + $(awk '
        /Non-2xx or 3xx responses:/ { e += $NF }
        /Socket errors:/ { gsub(/,/, ""); e += $4 + $6 + $8 + $10 }
        END { print e + 0 }' "$out")))
}

ratio() {  # A B → A/B, or n/a when B is not a positive number (e.g. "n/a")
    awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "n/a" }'
}

rss_mib() {
    local kib
    kib=$(awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || true)
    if [[ -n $kib ]]; then
        awk -v k="$kib" 'BEGIN {printf "%.1f", k / 1024}'
    else
        echo gone
    fi
}

# --- 1. micro-benchmarks -------------------------------------------------------------------------

echo "== micro_bench (Google Benchmark; 3 repetitions, aggregates only)"
echo "   (a 'Library was built as DEBUG' warning is about Debian's libbenchmark package; the"
echo "   benchmarked code is the build's own, e.g. Release for make bench)"
micro_args=(--benchmark_repetitions=3 --benchmark_report_aggregates_only=true
    --benchmark_out="$tmp/micro.json" --benchmark_out_format=json)
if [[ ${BENCH_SKIP_MICRO:-0} == 1 ]]; then
    echo "   BENCH_SKIP_MICRO=1: only the Argon2id benchmarks (the login ratio needs them)"
    micro_args+=(--benchmark_filter=Argon2id)
fi
"$micro_bench" "${micro_args[@]}"

# The median items_per_second of BM_Argon2idVerifyRaw (all nproc threads together) → the raw
# verifications per second of this machine (empty if the benchmark did not run). JSON, not
# CSV: the CSV reporter aborts when the benchmarks have different counters. Google Benchmark
# writes one "key": value per line, "name" first in each run.
argon2_verify_rate=$(awk '
    /"name":/ { name = $2; gsub(/[",]/, "", name) }
    name ~ /^BM_Argon2idVerifyRaw.*_median$/ && /"items_per_second":/ {
        v = $2; gsub(/,/, "", v); printf "%.2f", v + 0; exit }' "$tmp/micro.json")
[[ -n $argon2_verify_rate ]] || echo "bench: no BM_Argon2idVerifyRaw median in micro_bench's output" >&2

# --- 2. the stack under wrk ----------------------------------------------------------------------

env_file=$tmp/bench.env
cat >"$env_file" <<EOF
PORTCULLIS_ENV=development
PORTCULLIS_VAR_DIR=$tmp/var
PORTCULLIS_DATABASE_URL=sqlite://$tmp/bench.db
PORTCULLIS_LOG_LEVEL=warning
PORTCULLIS_MIGRATIONS_DIR=$repo/db/migrations
# Every login comes from 127.0.0.1: neither the per-IP failure throttle (step 3's wrong
# passwords) nor the session cap (step 2's login run makes hundreds of sessions for one user)
# may get in the way; step 3 gives each e-mail at most 50 failures, below this lockout.
PORTCULLIS_IP_THROTTLE_LIMIT=100000
PORTCULLIS_MAX_SESSIONS_PER_USER=1000
PORTCULLIS_LOCKOUT_THRESHOLD=100
PORTCULLIS_ARGON2_MEMORY=$argon2_memory
PORTCULLIS_ARGON2_RELEASE=$argon2_release
EOF
"$portcullis" migrate --env-file "$env_file" >"$tmp/migrate.log" 2>&1 ||
    { show_log "$tmp/migrate.log"; die "portcullis migrate failed"; }

# Both backends and both nginx instances (same template, one socket each) run side by side, so
# with BENCH_ROUNDS > 1 the targets take turns and drift of the machine hits all of them alike.
# Idle, the other servers cost nothing.
"$fcgi_hello" --listen "unix:$tmp/hello.sock" --workers "$workers" >"$tmp/hello.log" 2>&1 &
hello_pid=$!
started+=("$hello_pid")
wait_children "$hello_pid" "$workers" >/dev/null
start_nginx hello "$tmp/hello.sock"
hello_nginx_pid=$nginx_pid
url[static]=http://127.0.0.1:$nginx_port/index.html
url[hello]=http://127.0.0.1:$nginx_port/api/hello
wait_ready "${url[hello]}" "$hello_pid" "$tmp/hello.log"

start_serve
wait_children "$serve_pid" "$workers" >/dev/null
start_nginx app "$tmp/app.sock"
url[health]=http://127.0.0.1:$nginx_port/api/v1/health
wait_ready "${url[health]}" "$serve_pid" "$tmp/serve.log"
body=$(curl -s --max-time 2 "${url[health]}")
[[ $body == '{"status":"ok","database":"ok"}' ]] || die "unexpected health answer: $body"
app_base=http://127.0.0.1:$nginx_port

# --- accounts, and the session of the authenticated run --------------------------------------------

bench_password='correct horse battery staple 42'

# api_post PATH JSON [HEADER_FILE]: POSTs JSON to the app and prints the HTTP status; the answer's
# body goes to $tmp/answer.json, its headers to HEADER_FILE if given.
api_post() {
    curl -sS --max-time 10 -o "$tmp/answer.json" -D "${3:-/dev/null}" -w '%{http_code}' \
        -H 'Content-Type: application/json' --data-raw "$2" "$app_base$1" || true
}

# register EMAIL DISPLAY_NAME: a new tenant and its owner, password $bench_password (201).
register() {
    local code
    code=$(api_post /api/v1/auth/register "{\"tenant_name\":\"Bench\",\"email\":\"$1\",\"password\":\"$bench_password\",\"display_name\":\"$2\"}")
    [[ $code == 201 ]] || die "register $1 answered $code: $(head -c 300 "$tmp/answer.json")"
}

# The login run logs in as bench@ (hundreds of sessions); /me runs on a session of its own
# account, bench-me@, which those logins therefore cannot evict.
register bench@example.test Bench
register bench-me@example.test 'Bench Me'
# Step 3's known e-mails: at most 50 wrong-password attempts each.
known_accounts=$(((auth_attempts + 49) / 50))
for ((i = 1; i <= known_accounts; i++)); do
    register "bench-known-$i@example.test" "Bench Known $i"
done

# session_cookie HEADER_FILE: the value of the __Host-portcullis cookie set in those headers.
session_cookie() {
    tr -d '\r' <"$1" | awk '
        tolower($1) == "set-cookie:" && $2 ~ /^__Host-portcullis=/ {
            v = $2; sub(/^__Host-portcullis=/, "", v); sub(/;.*$/, "", v); print v; exit }'
}

code=$(api_post /api/v1/auth/login \
    "{\"email\":\"bench-me@example.test\",\"password\":\"$bench_password\"}" \
    "$tmp/login-headers.txt")
[[ $code == 200 ]] || die "login answered $code: $(head -c 300 "$tmp/answer.json")"
session_token=$(session_cookie "$tmp/login-headers.txt")
[[ $session_token =~ ^[A-Za-z0-9_-]+$ ]] || die "no __Host-portcullis cookie in the login answer"
code=$(curl -sS --max-time 10 -o "$tmp/answer.json" -w '%{http_code}' \
    -H "Cookie: __Host-portcullis=$session_token" "$app_base/api/v1/me" || true)
[[ $code == 200 ]] || die "GET /api/v1/me with the session cookie answered $code"

url[me]=$app_base/api/v1/me
script[me]=$tmp/me.lua
label[me]="GET ${url[me]}, Cookie: __Host-portcullis=<session of bench-me@>"
cat >"${script[me]}" <<EOF
wrk.headers["Cookie"] = "__Host-portcullis=$session_token"
EOF

url[login]=$app_base/api/v1/auth/login
script[login]=$tmp/login.lua
label[login]="POST ${url[login]}, JSON: bench@ and its password"
cat >"${script[login]}" <<EOF
wrk.method = "POST"
wrk.body = '{"email":"bench@example.test","password":"$bench_password"}'
wrk.headers["Content-Type"] = "application/json"
EOF

echo
echo "== stack: nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), $(nproc) CPU(s), $workers workers;" \
    "wrk -t$threads -c$connections -d$duration --latency, $rounds run(s) per target after one" \
    "$warmup warm-up each"
targets=()
for name in static hello health me login; do
    if want "$name"; then
        targets+=("$name")
    fi
done
for name in "${targets[@]+"${targets[@]}"}"; do
    run_wrk "$name" "$warmup" >/dev/null
done
# The raw Argon2id rate again right after each login run (BM_Argon2idVerifyRaw, nproc threads,
# about 3 s): the machine's load drifts, so each login run is divided by the raw rate measured
# next to it, and the report gives the median of those per-run ratios.
raw_next_to_login=''
login_raw_ratios=''
for ((round = 1; round <= rounds; round++)); do
    for name in "${targets[@]+"${targets[@]}"}"; do
        measure "$name" "$round"
        if [[ $name == login ]]; then
            "$micro_bench" --benchmark_filter='^BM_Argon2idVerifyRaw' --benchmark_min_time=3 \
                --benchmark_format=json >"$tmp/raw-$round.json" 2>/dev/null || true
            r=$(awk '/"items_per_second":/ { v = $2; gsub(/,/, "", v); printf "%.2f", v; exit }' \
                "$tmp/raw-$round.json")
            if [[ -n $r ]]; then
                echo "    raw Argon2id verify right after: $r /s"
                raw_next_to_login+=" $r"
                login_raw_ratios+=" $(ratio "${rps[login]##* }" "$r")"
            fi
        fi
    done
done
stop_pid "$hello_nginx_pid"
stop_pid "$hello_pid"

# --- 2b. login with MFA: password, then a backup code ----------------------------------------------

# json_string FILE KEY: a top-level string member of the JSON in FILE (empty if absent). The
# app's JSON is compact and its tokens, secrets and codes need no escaping, so grep/sed suffice
# without jq.
json_string() {
    if command -v jq >/dev/null; then
        jq -r --arg k "$2" '.[$k] | strings' "$1" 2>/dev/null || true
    else
        grep -o "\"$2\":\"[^\"]*\"" "$1" | head -n 1 | sed 's/^.*:"//; s/"$//' || true
    fi
}

# backup_codes FILE: the backup_codes array of the JSON in FILE, one code a line.
backup_codes() {
    if command -v jq >/dev/null; then
        jq -r '.backup_codes[]? | strings' "$1" 2>/dev/null || true
    else
        sed -n 's/.*"backup_codes":\[\([^]]*\)\].*/\1/p' "$1" | tr ',' '\n' | tr -d '"' |
            grep . || true
    fi
}

# True if the JSON in FILE has "mfa_required": true.
mfa_required() {
    if command -v jq >/dev/null; then
        jq -e '.mfa_required == true' "$1" >/dev/null 2>&1
    else
        grep -q '"mfa_required":true' "$1"
    fi
}

# api_post_session PATH JSON TOKEN CSRF [HEADER_FILE]: api_post with a session cookie and its
# CSRF token.
api_post_session() {
    curl -sS --max-time 10 -o "$tmp/answer.json" -D "${5:-/dev/null}" -w '%{http_code}' \
        -H 'Content-Type: application/json' -H "Cookie: __Host-portcullis=$3" \
        -H "X-CSRF-Token: $4" --data-raw "$2" "$app_base$1" || true
}

mfa_accounts=3
want mfa || mfa_accounts=0
mfa_codes=()  # "email code", one per round trip
for ((i = 1; i <= mfa_accounts; i++)); do
    email=bench-mfa-$i@example.test
    register "$email" "Bench MFA $i"
    code=$(api_post /api/v1/auth/login \
        "{\"email\":\"$email\",\"password\":\"$bench_password\"}" "$tmp/mfa-headers.txt")
    [[ $code == 200 ]] || die "login $email answered $code: $(head -c 300 "$tmp/answer.json")"
    token=$(session_cookie "$tmp/mfa-headers.txt")
    csrf=$(json_string "$tmp/answer.json" csrf_token)
    [[ -n $token && -n $csrf ]] || die "login $email: no session cookie or csrf_token"
    code=$(api_post_session /api/v1/mfa/totp/setup '{}' "$token" "$csrf")
    [[ $code == 200 ]] || die "totp/setup $email answered $code: $(head -c 300 "$tmp/answer.json")"
    secret=$(json_string "$tmp/answer.json" secret)
    [[ $secret =~ ^[A-Z2-7]+=*$ ]] || die "totp/setup $email: no base32 secret in the answer"
    totp=$(oathtool --totp -b "$secret") || die "oathtool failed on the secret of $email"
    code=$(api_post_session /api/v1/mfa/totp/enable "{\"code\":\"$totp\"}" "$token" "$csrf")
    [[ $code == 200 ]] || die "totp/enable $email answered $code: $(head -c 300 "$tmp/answer.json")"
    n=0
    while read -r backup; do
        mfa_codes+=("$email $backup")
        n=$((n + 1))
    done < <(backup_codes "$tmp/answer.json")
    [[ $n == 10 ]] || die "totp/enable $email: $n backup codes, expected 10"
done
# The plain logins in between: an account of their own, without MFA.
register bench-plain@example.test 'Bench Plain'

mfa_trips=${#mfa_codes[@]}
echo
echo "== login with MFA: $mfa_trips round trips ($mfa_accounts accounts x 10 backup codes), each" \
    "POST /api/v1/auth/login then POST /api/v1/auth/mfa/verify {backup_code}, then one plain" \
    "password login of bench-plain@; sequential, one curl per request (curl time_total)"
: >"$tmp/mfa.txt"
mfa_start=$(date +%s.%N)
for entry in "${mfa_codes[@]}"; do
    read -r email backup <<<"$entry"
    # Step 1: password → 200 {"mfa_required":true,"csrf_token":…} and an MFA-pending cookie.
    read -r code1 t1 < <(curl -sS --max-time 10 -o "$tmp/mfa-login.json" \
        -D "$tmp/mfa-login-headers.txt" -w '%{http_code} %{time_total}\n' \
        -H 'Content-Type: application/json' \
        --data-raw "{\"email\":\"$email\",\"password\":\"$bench_password\"}" \
        "$app_base/api/v1/auth/login" 2>>"$tmp/mfa.err" || echo "000 0")
    token='' csrf='' code2=skipped t2=0
    if [[ $code1 == 200 ]] && mfa_required "$tmp/mfa-login.json"; then
        token=$(session_cookie "$tmp/mfa-login-headers.txt")
        csrf=$(json_string "$tmp/mfa-login.json" csrf_token)
    elif [[ $code1 == 200 ]]; then
        code1=200-without-mfa_required
    fi
    # Step 2: the pending cookie, its CSRF token and one backup code → 200, a full session.
    if [[ -n $token && -n $csrf ]]; then
        read -r code2 t2 < <(curl -sS --max-time 10 -o "$tmp/mfa-verify.json" \
            -w '%{http_code} %{time_total}\n' -H 'Content-Type: application/json' \
            -H "Cookie: __Host-portcullis=$token" -H "X-CSRF-Token: $csrf" \
            --data-raw "{\"backup_code\":\"$backup\"}" \
            "$app_base/api/v1/auth/mfa/verify" 2>>"$tmp/mfa.err" || echo "000 0")
    fi
    # The same measurement for a plain password login.
    read -r code3 t3 < <(curl -sS --max-time 10 -o /dev/null -w '%{http_code} %{time_total}\n' \
        -H 'Content-Type: application/json' \
        --data-raw "{\"email\":\"bench-plain@example.test\",\"password\":\"$bench_password\"}" \
        "$app_base/api/v1/auth/login" 2>>"$tmp/mfa.err" || echo "000 0")
    echo "mfa $code1 $code2 $t1 $t2" >>"$tmp/mfa.txt"
    echo "plain $code3 $t3" >>"$tmp/mfa.txt"
done
mfa_wall=$(awk -v a="$mfa_start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}')
# Round trips (and plain logins) whose every step answered 200: ms each, count, rate.
mfa_ms=$(awk '$1 == "mfa" && $2 == 200 && $3 == 200 { printf " %.3f", ($4 + $5) * 1000 }' \
    "$tmp/mfa.txt")
mfa_ok=$(awk '$1 == "mfa" && $2 == 200 && $3 == 200 { n++ } END { print n + 0 }' "$tmp/mfa.txt")
mfa_rate=$(awk '$1 == "mfa" && $2 == 200 && $3 == 200 { n++; s += $4 + $5 }
    END { if (s > 0) printf "%.2f", n / s; else print "n/a" }' "$tmp/mfa.txt")
plain_ms=$(awk '$1 == "plain" && $2 == 200 { printf " %.3f", $3 * 1000 }' "$tmp/mfa.txt")
plain_ok=$(awk '$1 == "plain" && $2 == 200 { n++ } END { print n + 0 }' "$tmp/mfa.txt")
plain_rate=$(awk '$1 == "plain" && $2 == 200 { n++; s += $3 }
    END { if (s > 0) printf "%.2f", n / s; else print "n/a" }' "$tmp/mfa.txt")
other=$(awk '$1 == "mfa" && !($2 == 200 && $3 == 200) { c["login " $2 ", verify " $3]++ }
    END { for (s in c) printf " [%s] x%d", s, c[s] }' "$tmp/mfa.txt")
echo "    MFA round trips: $mfa_ok of $mfa_trips answered 200 at both steps${other:+ (others:$other)}"
other=$(awk '$1 == "plain" && $2 != 200 { c[$2]++ }
    END { for (s in c) printf " %s x%d", s, c[s] }' "$tmp/mfa.txt")
echo "    plain logins: $plain_ok of $mfa_trips answered 200${other:+ (others:$other)}"
echo "    wall clock ${mfa_wall}s for all of it (with curl's start-up and this script's parsing)"
if [[ -s $tmp/mfa.err ]]; then
    sed 's/^/    curl: /' "$tmp/mfa.err" | head -n 5
fi

# --- 3. login timing: known vs unknown e-mail, wrong password -------------------------------------

# One curl, one keep-alive connection, one request after the other, known and unknown taking
# turns (so drift hits both alike). Each e-mail, known or not, gets at most 50 attempts, below
# PORTCULLIS_LOCKOUT_THRESHOLD=100: every attempt should be a full 401 (the stored hash or the
# dummy verified), never the fast 429 of a lockout; the codes are counted and shown. A health
# request first opens the connection and is not counted.
echo
echo "== login timing: $auth_attempts wrong-password logins for known e-mails ($known_accounts" \
    "accounts) and $auth_attempts for unknown e-mails ($known_accounts addresses), taking turns," \
    "sequential, one keep-alive connection (curl time_total)"
timing_cfg=$tmp/timing.curlrc
{
    printf 'url = "%s"\noutput = "/dev/null"\nmax-time = 10\n' "${url[health]}"
    printf 'write-out = "warmup %%{http_code} %%{time_total}\\n"\n'
    for ((i = 0; i < auth_attempts; i++)); do
        k=$((i % known_accounts + 1))
        for kind in known unknown; do
            if [[ $kind == known ]]; then
                email=bench-known-$k@example.test
            else
                email=nobody-$k@example.test
            fi
            printf 'next\nurl = "%s"\nheader = "Content-Type: application/json"\n' "${url[login]}"
            printf 'data-raw = "{\\"email\\":\\"%s\\",\\"password\\":\\"not the password %d\\"}"\n' \
                "$email" "$i"
            printf 'output = "/dev/null"\nmax-time = 10\n'
            printf 'write-out = "%s %%{http_code} %%{time_total}\\n"\n' "$kind"
        done
    done
} >"$timing_cfg"
timeout 300 curl -sS -K "$timing_cfg" >"$tmp/timing.txt" 2>"$tmp/timing.err" || true
declare -A timing_ms timing_n timing_401
for kind in known unknown; do
    # time_total (s) → ms, for every attempt of this kind.
    timing_ms[$kind]=$(awk -v k="$kind" '$1 == k { printf " %.3f", $3 * 1000 }' "$tmp/timing.txt")
    timing_n[$kind]=$(awk -v k="$kind" '$1 == k { n++ } END { print n + 0 }' "$tmp/timing.txt")
    timing_401[$kind]=$(awk -v k="$kind" '$1 == k && $2 == 401 { n++ } END { print n + 0 }' \
        "$tmp/timing.txt")
    other=$(awk -v k="$kind" '$1 == k && $2 != 401 { c[$2]++ }
        END { for (s in c) printf " %s x%d", s, c[s] }' "$tmp/timing.txt")
    echo "    $kind: ${timing_n[$kind]} of $auth_attempts answered, ${timing_401[$kind]} with 401${other:+ (others:$other)}"
done
if [[ -s $tmp/timing.err ]]; then
    sed 's/^/    curl: /' "$tmp/timing.err" | head -n 5
fi

# --- 4. worker RSS after N requests and during logins, on a fresh master ------------------------

# A fresh master, so each worker has served only its share of these requests (the wrk runs above
# went through several max_requests_per_worker recycles).
stop_pid "$serve_pid"
declare -A rss_before rss_after rss_peak rss_after_logins
rss_workers='' rss_ok=n/a login_ok=n/a master_rss=n/a
if want rss; then
    start_serve
    rss_workers=$(wait_children "$serve_pid" "$workers")
    wait_ready "${url[health]}" "$serve_pid" "$tmp/serve.log"
    # Each worker makes its dummy Argon2id hash at start-up (19 MiB for tens of ms): let them
    # all finish it, so "after start" is the idle baseline and not a worker caught mid-hash.
    sleep 1
    for pid in $rss_workers; do
        rss_before[$pid]=$(rss_mib "$pid")
    done
    echo
    echo "== RSS: $rss_requests requests to ${url[health]} (curl, 4 in parallel), fresh master" \
        "(Argon2id memory: $argon2_memory, release: $argon2_release)"
    # wrk cannot stop after a request count (its main thread sleeps the full -d), so curl sends
    # a fixed number over 4 parallel keep-alive connections; ?n=1..N only varies the URL (the
    # app ignores the query). Bodies and status codes go to a file, each code on its own line.
    rss_start=$(date +%s.%N)
    timeout 120 curl -sS --parallel --parallel-max 4 --max-time 10 -w '\n%{http_code}\n' \
        "${url[health]}?n=[1-$rss_requests]" >"$tmp/curl-rss.txt" 2>"$tmp/curl-rss.err" || true
    rss_secs=$(awk -v a="$rss_start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
    rss_ok=$(grep -cx 200 "$tmp/curl-rss.txt" || true)
    echo "    $rss_ok of $rss_requests answered 200 in ${rss_secs}s"
    for pid in $rss_workers; do
        rss_after[$pid]=$(rss_mib "$pid")
    done
    # Then logins: the peak RSS of each worker (VmHWM: the most it ever had resident, so its
    # RSS during a login) and its RSS once they are over.
    echo "== RSS: $rss_logins logins (curl, 4 in parallel) on the same workers"
    timeout 300 curl -sS --parallel --parallel-max 4 --max-time 10 -w '\n%{http_code}\n' \
        -H 'Content-Type: application/json' \
        --data-raw "{\"email\":\"bench@example.test\",\"password\":\"$bench_password\"}" \
        "$app_base/api/v1/auth/login?n=[1-$rss_logins]" >"$tmp/curl-rss-login.txt" \
        2>"$tmp/curl-rss-login.err" || true
    login_ok=$(grep -cx 200 "$tmp/curl-rss-login.txt" || true)
    echo "    $login_ok of $rss_logins answered 200"
    # Under PORTCULLIS_ARGON2_RELEASE=idle a worker gives the pages back after 1 s in accept().
    sleep 2
    for pid in $rss_workers; do
        rss_peak[$pid]=$(awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status" \
            2>/dev/null || echo gone)
        rss_after_logins[$pid]=$(rss_mib "$pid")
    done
    master_rss=$(rss_mib "$serve_pid")
    stop_pid "$serve_pid"
fi
stop_pid "$nginx_pid"

# --- report --------------------------------------------------------------------------------------

echo
echo "== results: median of $rounds run(s) of $duration per target (p50/p99: wrk's latency" \
    "percentiles; requests and errors: totals; errors = non-2xx/3xx + socket errors)"
printf '%-8s %12s %10s %10s %10s %8s\n' target req/s p50_ms p99_ms requests errors
declare -A rps_median
for name in "${targets[@]+"${targets[@]}"}"; do
    # shellcheck disable=SC2086  # the lists are space-separated numbers
    rps_median[$name]=$(median ${rps[$name]})
    # shellcheck disable=SC2086
    printf '%-8s %12s %10s %10s %10s %8s\n' "$name" "${rps_median[$name]}" \
        "$(median ${p50[$name]})" "$(median ${p99[$name]})" "${requests[$name]}" \
        "${errors[$name]}"
done
echo
printf 'ratio health/hello  %6s   (req/s; goal >= 0.5)\n' \
    "$(ratio "${rps_median[health]:-n/a}" "${rps_median[hello]:-n/a}")"
printf 'ratio hello/static  %6s   (req/s)\n' \
    "$(ratio "${rps_median[hello]:-n/a}" "${rps_median[static]:-n/a}")"
printf 'ratio me/hello      %6s   (req/s, authenticated GET /api/v1/me; goal >= 0.5)\n' \
    "$(ratio "${rps_median[me]:-n/a}" "${rps_median[hello]:-n/a}")"

echo
login_ceiling=${argon2_verify_rate:-n/a}
echo "login throughput vs raw Argon2id (default params m=19456 KiB, t=2, p=1; server's" \
    "Argon2id memory: $argon2_memory, release: $argon2_release)"
printf '  raw Argon2id verify, %d threads %10s /s   (micro_bench BM_Argon2idVerifyRaw, median)\n' \
    "$(nproc)" "$login_ceiling"
printf '  login over the stack           %10s /s   (wrk, median; %s non-2xx/socket errors)\n' \
    "${rps_median[login]:-n/a}" "${errors[login]:-n/a}"
printf '  ratio login/raw                %10s      (goal >= 0.9)\n' \
    "$(ratio "${rps_median[login]:-n/a}" "$login_ceiling")"
if [[ -n $login_raw_ratios ]]; then
    # shellcheck disable=SC2086  # space-separated numbers
    printf '  raw verify next to each run    %10s /s   (median; runs:%s)\n' \
        "$(median $raw_next_to_login)" "$raw_next_to_login"
    # shellcheck disable=SC2086
    printf '  ratio login/raw, per run       %10s      (median; runs:%s; goal >= 0.9)\n' \
        "$(median $login_raw_ratios)" "$login_raw_ratios"
fi

echo
echo "login with MFA through nginx (password, then a backup code; sequential, curl time_total)"
# shellcheck disable=SC2086  # space-separated numbers
printf '  mfa login round trips/s        %10s /s   (median %s ms per round trip; %s of %s answered 200 at both steps)\n' \
    "$mfa_rate" "$(median ${mfa_ms:-0})" "$mfa_ok" "$mfa_trips"
# shellcheck disable=SC2086
printf '  plain password logins/s        %10s /s   (median %s ms per login, same loop; %s of %s answered 200)\n' \
    "$plain_rate" "$(median ${plain_ms:-0})" "$plain_ok" "$mfa_trips"
printf '  ratio mfa/plain, sequential    %10s\n' "$(ratio "$mfa_rate" "$plain_rate")"
printf '  ratio mfa/wrk login            %10s      (wrk: %s connections at once, not like for like)\n' \
    "$(ratio "$mfa_rate" "${rps_median[login]:-n/a}")" "$connections"

echo
echo "login time, wrong password, known vs unknown e-mail (AUTH-6; sequential, curl time_total)"
# shellcheck disable=SC2086  # space-separated numbers
known_median=$(median ${timing_ms[known]:-0})
# shellcheck disable=SC2086
unknown_median=$(median ${timing_ms[unknown]:-0})
printf '  known e-mail     median %8s ms   (%s attempts, %s answered 401)\n' \
    "$known_median" "${timing_n[known]}" "${timing_401[known]}"
printf '  unknown e-mail   median %8s ms   (%s attempts, %s answered 401)\n' \
    "$unknown_median" "${timing_n[unknown]}" "${timing_401[unknown]}"
printf '  difference       %s %% of known (unknown - known; goal within +-5 %%)\n' \
    "$(awk -v k="$known_median" -v u="$unknown_median" \
        'BEGIN { if (k > 0) printf "%+.1f", (u - k) / k * 100; else print "n/a" }')"
if [[ ${timing_401[known]} == "$auth_attempts" && ${timing_401[unknown]} == "$auth_attempts" ]]; then
    echo "  every measured attempt answered 401 (none locked out, none throttled)"
else
    echo "  NOT every measured attempt answered 401: the medians mix in other answers (see above)"
fi
echo
echo "worker RSS (MiB), fresh master: VmRSS after start, after $rss_requests health requests" \
    "($rss_ok answered 200), peak VmHWM and VmRSS after $rss_logins logins ($login_ok answered" \
    "200); goal <= 10 MiB idle, <= 32 MiB during a login"
printf '%-10s %12s %12s %12s %12s\n' worker_pid after_start "after_$rss_requests" peak_login \
    after_logins
max_rss=0 max_peak=0
for pid in $rss_workers; do
    printf '%-10s %12s %12s %12s %12s\n' "$pid" "${rss_before[$pid]}" "${rss_after[$pid]}" \
        "${rss_peak[$pid]}" "${rss_after_logins[$pid]}"
    for v in "${rss_after[$pid]}" "${rss_after_logins[$pid]}"; do
        max_rss=$(awk -v a="$max_rss" -v b="$v" 'BEGIN {print (b + 0 > a + 0) ? b : a}')
    done
    max_peak=$(awk -v a="$max_peak" -v b="${rss_peak[$pid]}" 'BEGIN {print (b + 0 > a + 0) ? b : a}')
done
printf 'max worker RSS idle %s MiB, peak %s MiB (master %s MiB)\n' "$max_rss" "$max_peak" \
    "$master_rss"
