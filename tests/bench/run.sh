#!/usr/bin/env bash
# portcullis benchmarks (`make bench`).
#
#   tests/bench/run.sh REPO_DIR BUILD_DIR
#
# BUILD_DIR (absolute, or relative to the current directory or to REPO_DIR) must hold the
# targets portcullis, micro_bench and fcgi_hello, e.g. a build configured with
# -DPORTCULLIS_BUILD_BENCH=ON.
#
#   1. micro_bench (Google Benchmark), 3 repetitions, aggregates only.
#   2. wrk against the real stack on 127.0.0.1, one 2 s warm-up and one 10 s run each
#      (-t2 -c16 --latency; BENCH_ROUNDS=N: N runs each, taking turns, medians reported), all
#      behind the nginx dev config (nginx/render-dev.sh):
#        static  nginx serving /index.html
#        hello   tests/bench/fcgi_hello, 4 workers (the libfcgi ceiling)
#        health  portcullis serve --workers 4, GET /api/v1/health on SQLite
#      and the ratios health/hello (goal >= 0.5) and hello/static.
#   3. Worker RSS: a fresh `portcullis serve`, 10 000 health requests (curl --parallel, 4 at a
#      time), VmRSS of each worker before and after (goal <= 10 MiB).
#
# Reports figures only; the exit status is non-zero only when the benchmark itself could not
# run (missing tool, a server that does not start), never because of a number.
#
# Everything runs in a private `mktemp -d` directory that is removed at the end; the trap stops
# only the processes this script started (by PID, and the workers it saw under them).
#
# Knobs (environment): BENCH_DURATION (10s), BENCH_WARMUP (2s), BENCH_THREADS (2),
# BENCH_CONNECTIONS (16), BENCH_WORKERS (4), BENCH_ROUNDS (1), BENCH_RSS_REQUESTS (10000),
# BENCH_SKIP_MICRO=1 (skip step 1).
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
for tool in wrk nginx curl awk; do
    command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install $tool)"
done

duration=${BENCH_DURATION:-10s}
warmup=${BENCH_WARMUP:-2s}
threads=${BENCH_THREADS:-2}
connections=${BENCH_CONNECTIONS:-16}
workers=${BENCH_WORKERS:-4}
rss_requests=${BENCH_RSS_REQUESTS:-10000}
rounds=${BENCH_ROUNDS:-1}
for n in "$threads" "$connections" "$workers" "$rss_requests" "$rounds"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || die "BENCH_* counts must be positive integers: $n"
done

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

start_nginx() {  # NAME FCGI_SOCKET → sets nginx_pid, nginx_port
    local name=$1 socket=$2
    nginx_port=$(free_port)
    local prefix=$tmp/nginx-$name
    bash "$repo/nginx/render-dev.sh" "$prefix/nginx.conf" "$prefix" "$nginx_port" "$socket" \
        >/dev/null
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

# measure NAME ROUND: one wrk run, its output shown and parsed.
measure() {
    local name=$1 round=$2 out=$tmp/wrk-$1-$2.txt
    echo
    echo "== wrk: $name, run $round of $rounds (${url[$name]})"
    wrk -t"$threads" -c"$connections" -d"$duration" --latency "${url[$name]}" >"$out"
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

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
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
if [[ ${BENCH_SKIP_MICRO:-0} != 1 ]]; then
    "$micro_bench" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
else
    echo "   skipped (BENCH_SKIP_MICRO=1)"
fi

# --- 2. the stack under wrk ----------------------------------------------------------------------

env_file=$tmp/bench.env
cat >"$env_file" <<EOF
PORTCULLIS_ENV=development
PORTCULLIS_VAR_DIR=$tmp/var
PORTCULLIS_DATABASE_URL=sqlite://$tmp/bench.db
PORTCULLIS_LOG_LEVEL=warning
PORTCULLIS_MIGRATIONS_DIR=$repo/db/migrations
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

echo
echo "== stack: nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), $(nproc) CPU(s), $workers workers;" \
    "wrk -t$threads -c$connections -d$duration --latency, $rounds run(s) per target after one" \
    "$warmup warm-up each"
targets=(static hello health)
for name in "${targets[@]}"; do
    wrk -t"$threads" -c"$connections" -d"$warmup" "${url[$name]}" >/dev/null
done
for ((round = 1; round <= rounds; round++)); do
    for name in "${targets[@]}"; do
        measure "$name" "$round"
    done
done
stop_pid "$hello_nginx_pid"
stop_pid "$hello_pid"

# --- 3. worker RSS after N requests, on a fresh master -------------------------------------------

# A fresh master, so each worker has served only its share of these requests (the wrk runs above
# went through several max_requests_per_worker recycles).
stop_pid "$serve_pid"
start_serve
rss_workers=$(wait_children "$serve_pid" "$workers")
wait_ready "${url[health]}" "$serve_pid" "$tmp/serve.log"
declare -A rss_before rss_after
for pid in $rss_workers; do
    rss_before[$pid]=$(rss_mib "$pid")
done
echo
echo "== RSS: $rss_requests requests to ${url[health]} (curl, 4 in parallel), fresh master"
# wrk cannot stop after a request count (its main thread sleeps the full -d), so curl sends a
# fixed number over 4 parallel keep-alive connections; ?n=1..N only varies the URL (the app
# ignores the query). Bodies and status codes go to a file, each code on its own line.
rss_start=$(date +%s.%N)
timeout 120 curl -sS --parallel --parallel-max 4 --max-time 10 -w '\n%{http_code}\n' \
    "${url[health]}?n=[1-$rss_requests]" >"$tmp/curl-rss.txt" 2>"$tmp/curl-rss.err" || true
rss_secs=$(awk -v a="$rss_start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
rss_ok=$(grep -cx 200 "$tmp/curl-rss.txt" || true)
echo "    $rss_ok of $rss_requests answered 200 in ${rss_secs}s"
for pid in $rss_workers; do
    rss_after[$pid]=$(rss_mib "$pid")
done
master_rss=$(rss_mib "$serve_pid")
stop_pid "$nginx_pid"
stop_pid "$serve_pid"

# --- report --------------------------------------------------------------------------------------

echo
echo "== results: median of $rounds run(s) of $duration per target (p50/p99: wrk's latency" \
    "percentiles; requests and errors: totals; errors = non-2xx/3xx + socket errors)"
printf '%-8s %12s %10s %10s %10s %8s\n' target req/s p50_ms p99_ms requests errors
declare -A rps_median
for name in "${targets[@]}"; do
    # shellcheck disable=SC2086  # the lists are space-separated numbers
    rps_median[$name]=$(median ${rps[$name]})
    # shellcheck disable=SC2086
    printf '%-8s %12s %10s %10s %10s %8s\n' "$name" "${rps_median[$name]}" \
        "$(median ${p50[$name]})" "$(median ${p99[$name]})" "${requests[$name]}" \
        "${errors[$name]}"
done
echo
printf 'ratio health/hello  %6s   (req/s; goal >= 0.5)\n' \
    "$(ratio "${rps_median[health]}" "${rps_median[hello]}")"
printf 'ratio hello/static  %6s   (req/s)\n' \
    "$(ratio "${rps_median[hello]}" "${rps_median[static]}")"
echo
echo "worker RSS (VmRSS, MiB), fresh master, before and after $rss_requests health requests" \
    "($rss_ok answered 200); goal <= 10 MiB per worker"
printf '%-10s %12s %12s\n' worker_pid after_start "after_$rss_requests"
max_rss=0
for pid in $rss_workers; do
    printf '%-10s %12s %12s\n' "$pid" "${rss_before[$pid]}" "${rss_after[$pid]}"
    max_rss=$(awk -v a="$max_rss" -v b="${rss_after[$pid]}" 'BEGIN {print (b + 0 > a + 0) ? b : a}')
done
printf 'max worker RSS %s MiB (master %s MiB)\n' "$max_rss" "$master_rss"
