#!/usr/bin/env bash
# End-to-end harness: the SPA in headless Chromium (Debian's /usr/bin/chromium, driven by
# playwright-core from npm) against a real `portcullis serve` behind a real nginx on SQLite,
# with real mail: a loopback SMTP server (tests/integration/smtp_sink.py, Debian's
# python3-aiosmtpd) fed by a running `portcullis mail deliver`, whose links point at the nginx
# origin the browser uses. Tests read the received messages from $PORTCULLIS_E2E_MAIL_DIR.
# Stops everything it started (its own PIDs only) and removes its temp dir.
#
#   tests/e2e/run.sh PORTCULLIS_BIN [TEST_FILE…]
#
# Artifacts (relative to the repository root), for CI and reviewers:
#   build/e2e/memories.png, build/e2e/mfa-enrolment.png   screenshots taken on every run
#   build/e2e/failure-<test>.png, build/e2e/console-<test>.log   for each failed test
#   build/e2e/portcullis.log, build/e2e/nginx-error.log          when the run failed
#   build/e2e/mailer.log, build/e2e/smtp-sink.log                 when the run failed
# Environment: PORTCULLIS_E2E_CHROMIUM (default /usr/bin/chromium), PORTCULLIS_E2E_HEADED=1
# to watch the browser (needs a display).
set -euo pipefail

bin=$(realpath "$1")
shift
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
root=$(cd "$here/../.." && pwd -P)
artifacts=$root/build/e2e
chromium=${PORTCULLIS_E2E_CHROMIUM:-/usr/bin/chromium}

log() { echo "[e2e] $*"; }
die() {
  echo "[e2e] ERROR: $*" >&2
  exit 1
}

[[ -x $bin ]] || die "portcullis binary not found or not executable: $bin"
command -v node >/dev/null || die "node is not installed (make deps installs Debian's nodejs)"
# playwright-core is pinned to a release that runs on Debian 12's own Node.js 18 as well as on 20+.
node_major=$(node -p 'process.versions.node.split(".")[0]')
((node_major >= 18)) || die "Node.js $(node --version) is too old: playwright-core needs Node.js 18 or newer"
command -v nginx >/dev/null || die "nginx is not installed (make deps)"
command -v oathtool >/dev/null || die "oathtool is not installed (make deps)"
# Debian's python packages import only under the system interpreter (DESIGN §11).
python=/usr/bin/python3
[[ -x $python ]] && "$python" -c 'import aiosmtpd' 2>/dev/null ||
  die "the mail tests need Debian's python3-aiosmtpd under $python (make deps)"
[[ -x $chromium ]] ||
  die "Chromium not found at $chromium: install Debian's package with 'apt-get install chromium' (or set PORTCULLIS_E2E_CHROMIUM)"

# --- node_modules: npm ci from the lockfile when missing or not the locked version -----------------
# Every package the tests load is checked (playwright-core drives Chromium, axe-core is the
# accessibility checker injected into pages): one missing or at another version → npm ci.
stale=""
for pkg in playwright-core axe-core; do
  want=$(node -e 'const l=require(process.argv[1]);const p=l.packages["node_modules/"+process.argv[2]];console.log(p?p.version:"")' \
    "$here/package-lock.json" "$pkg")
  [[ -n $want ]] || die "tests/e2e/package-lock.json does not lock $pkg"
  have=$(node -e 'try{console.log(require(process.argv[1]).version)}catch{console.log("")}' \
    "$here/node_modules/$pkg/package.json")
  [[ $have == "$want" ]] || stale+=" $pkg $want (found: ${have:-none})"
done
locked=$(node -e 'const l=require(process.argv[1]);console.log(l.packages["node_modules/playwright-core"].version)' \
  "$here/package-lock.json")
if [[ -n $stale ]]; then
  log "installing from the lockfile with npm ci:$stale"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) ||
    die "npm ci failed in tests/e2e: the npm registry must be reachable once to install:$stale"
fi

mkdir -p "$artifacts"
rm -f "$artifacts"/failure-*.png "$artifacts"/console-*.log "$artifacts"/portcullis.log \
  "$artifacts"/nginx-error.log "$artifacts"/mailer.log "$artifacts"/smtp-sink.log

# --- Chromium smoke launch: fail early and clearly when the browser cannot start ------------------
export PORTCULLIS_E2E_CHROMIUM=$chromium
if ! smoke=$(timeout 90 node "$here/lib/smoke.mjs" 2>&1); then
  echo "$smoke" >&2
  die "Chromium ($chromium) could not be launched headless by playwright-core $locked; see the output above"
fi
log "$smoke"

# --- the stack ---------------------------------------------------------------------------------------
T=$(mktemp -d /tmp/portcullis-e2e.XXXXXX)
chmod 0755 "$T"
master_pid=""
nginx_pid=""
sink_pid=""
mailer_pid=""

stop_pid() { # stop_pid PID SECONDS: TERM, wait, then KILL
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
  stop_pid "$mailer_pid" 10
  stop_pid "$sink_pid" 5
  stop_pid "$nginx_pid" 5
  stop_pid "$master_pid" 15
  # Workers of a killed master would be orphans: kill those started with our env file.
  for p in $(pgrep -f "serve --env-file $T/portcullis.env" 2>/dev/null); do kill -KILL "$p"; done
  if [[ $rc -ne 0 ]]; then
    log "FAILED (exit $rc); artifacts in $artifacts"
    cp "$T/portcullis.log" "$artifacts/portcullis.log" 2>/dev/null
    cp "$T/nginx/error.log" "$artifacts/nginx-error.log" 2>/dev/null
    cp "$T/mailer.log" "$artifacts/mailer.log" 2>/dev/null
    cp "$T/smtp-sink.log" "$artifacts/smtp-sink.log" 2>/dev/null
    tail -n 30 "$T/portcullis.log" 2>/dev/null
    tail -n 10 "$T/nginx/error.log" 2>/dev/null
  fi
  rm -rf "$T"
  exit $rc
}
trap cleanup EXIT INT TERM

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

# nginx first, so the port is settled before the app's config names it. The port is below the
# kernel's ephemeral range (32768+), so an outgoing connection cannot be holding it; another
# process may still take it between the check and the bind: retry on another.
port=$(free_port)
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
  wait "$nginx_pid" 2>/dev/null || true
  nginx_pid=""
  log "nginx could not start on port $port (attempt $attempt); trying another"
  port=$(free_port)
done
[[ -n $nginx_pid ]] || die "nginx could not start on a free port"
base=http://127.0.0.1:$port
# The browser browses $base, so that is the origin it sends and the invitation links' base.
# Step-up is shortened to the minimum (10 s) so the tests meet the re-authentication prompt;
# the per-IP failure throttle is raised because every test browser comes from 127.0.0.1.
step_up=10
cat >"$T/portcullis.env" <<ENV
PORTCULLIS_ENV=development
PORTCULLIS_VAR_DIR=$T/var
PORTCULLIS_DATABASE_URL=sqlite://$T/portcullis.db
PORTCULLIS_MIGRATIONS_DIR=$root/db/migrations
PORTCULLIS_ALLOWED_ORIGINS=$base
PORTCULLIS_PUBLIC_BASE_URL=$base
PORTCULLIS_REGISTRATION=open
PORTCULLIS_LOG_LEVEL=info
PORTCULLIS_SHUTDOWN_GRACE_SECONDS=10
PORTCULLIS_STEP_UP_SECONDS=$step_up
PORTCULLIS_IP_THROTTLE_LIMIT=10000
PORTCULLIS_SESSION_TOUCH_SECONDS=5
ENV

# ASan builds: a leak report in a worker's _exit path is not ours to read here.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0}

"$bin" migrate --env-file "$T/portcullis.env" >"$T/migrate.log" 2>&1 || {
  cat "$T/migrate.log"
  die "portcullis migrate failed"
}
"$bin" serve --env-file "$T/portcullis.env" --listen "unix:$T/fcgi.sock" --workers 3 \
  >"$T/portcullis.log" 2>&1 &
master_pid=$!


ready=0
for _ in $(seq 300); do
  if [[ $(curl -s -o /dev/null -w '%{http_code}' "$base/api/v1/health" || true) == 200 ]]; then
    ready=1
    break
  fi
  sleep 0.1
done
[[ $ready -eq 1 ]] || die "the stack did not become healthy on $base"

# --- mail: a loopback SMTP server and the deliverer ----------------------------------------------
# The sink writes each message it accepts to $mail_dir/<n>.msg (renamed into place, so a reader
# never sees half a message). Started after the stack, so the port check can't collide with
# nginx's; like nginx, retried on another port if another process took it meanwhile.
mail_dir=$T/mail
mkdir -p "$mail_dir"
for attempt in 1 2 3 4 5; do
  smtp_port=$(free_port)
  "$python" "$root/tests/integration/smtp_sink.py" "$smtp_port" "$mail_dir" >"$T/smtp-sink.log" 2>&1 &
  sink_pid=$!
  up=0
  for _ in $(seq 100); do
    kill -0 "$sink_pid" 2>/dev/null || break
    if (exec 3<>"/dev/tcp/127.0.0.1/$smtp_port") 2>/dev/null; then
      up=1
      break
    fi
    sleep 0.1
  done
  [[ $up -eq 1 ]] && break
  stop_pid "$sink_pid" 2
  wait "$sink_pid" 2>/dev/null || true
  sink_pid=""
  log "the SMTP sink could not start on port $smtp_port (attempt $attempt); trying another"
done
[[ -n $sink_pid ]] || die "the SMTP sink could not start: $(tail -n 5 "$T/smtp-sink.log")"

# The deliverer reads the server's env file and database (and the development secrets `serve`
# wrote under the var dir, hence after the stack is up); the SMTP settings go to it alone.
# Plain SMTP is allowed to loopback only, and polled every second so a test waits little.
PORTCULLIS_SMTP_URL=smtp://127.0.0.1:$smtp_port PORTCULLIS_SMTP_ALLOW_PLAIN_LOOPBACK=1 \
  PORTCULLIS_MAIL_POLL_SECONDS=1 PORTCULLIS_MAIL_FROM=no-reply@portcullis.test \
  "$bin" mail deliver --env-file "$T/portcullis.env" >"$T/mailer.log" 2>&1 &
mailer_pid=$!
for _ in $(seq 50); do
  grep -q 'mail.deliver_start' "$T/mailer.log" 2>/dev/null && break
  kill -0 "$mailer_pid" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$mailer_pid" 2>/dev/null || die "portcullis mail deliver exited: $(tail -n 5 "$T/mailer.log")"
log "stack up on $base (master $master_pid, nginx $nginx_pid, SMTP sink $sink_pid on port $smtp_port, mailer $mailer_pid)"

# --- the tests -----------------------------------------------------------------------------------------
if [[ $# -gt 0 ]]; then
  tests=("$@")
else
  tests=("$here"/*.test.mjs)
fi
started=$(date +%s)
export PORTCULLIS_E2E_BASE_URL=$base PORTCULLIS_E2E_ARTIFACTS=$artifacts PORTCULLIS_E2E_STEP_UP_SECONDS=$step_up \
  PORTCULLIS_E2E_MAIL_DIR=$mail_dir
set +e
if ((node_major >= 20)); then
  node --test --test-concurrency=1 --test-timeout=240000 --test-reporter=spec "${tests[@]}"
  rc=$?
else
  # Node 18's runner has no --test-concurrency: one file at a time, since the files share the
  # stack (each test keeps its own per-test timeout in lib/harness.mjs).
  rc=0
  for t in "${tests[@]}"; do
    node --test --test-reporter=spec "$t" || rc=1
  done
fi
set -e
log "tests finished in $(($(date +%s) - started)) s (exit $rc); screenshots in $artifacts"
exit $rc
