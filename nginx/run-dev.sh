#!/usr/bin/env bash
# `make run`: migrate the SQLite database in var/, start `portcullis serve`,
# the mail deliverer (no SMTP server in development: each mail becomes an
# .eml file under var/mail/, its path printed here) and nginx in the
# foreground on http://localhost:PORT, stop them all on Ctrl-C.
#
#   nginx/run-dev.sh REPO_DIR PORTCULLIS_BIN [PORT]
set -euo pipefail

root=$1
bin=$2
port=${3:-8080}
cd "$root"

if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "run-dev: port $port is already in use; stop what uses it or run: make run PORT=8081" >&2
  exit 1
fi

# nginx, not the app, decides which peers' X-Forwarded-For to believe (render-dev.sh); take
# PORTCULLIS_TRUSTED_PROXY from .env when the environment does not set it.
if [[ -z ${PORTCULLIS_TRUSTED_PROXY:-} && -f .env ]]; then
  PORTCULLIS_TRUSTED_PROXY=$(sed -n 's/^PORTCULLIS_TRUSTED_PROXY=//p' .env | tail -n 1)
  export PORTCULLIS_TRUSTED_PROXY
fi

mkdir -p var/run var/nginx
chmod 0700 var
sock="$root/var/run/fcgi.sock"
# The SPA's origin is this port; the env file (.env) may override it.
export PORTCULLIS_ALLOWED_ORIGINS=${PORTCULLIS_ALLOWED_ORIGINS:-http://localhost:$port,http://127.0.0.1:$port}
# Links in mail point at this port unless the environment or .env says otherwise.
if [[ -z ${PORTCULLIS_PUBLIC_BASE_URL:-} ]] && ! grep -qs '^PORTCULLIS_PUBLIC_BASE_URL=' .env; then
  export PORTCULLIS_PUBLIC_BASE_URL=http://localhost:$port
fi

"$bin" migrate
"$bin" serve --listen "unix:$sock" &
master=$!
"$bin" mail deliver &
mailer=$!
bash nginx/render-dev.sh var/nginx/nginx.conf "$root/var/nginx" "$port" "$sock" >/dev/null
nginx -p "$root/var/nginx" -c "$root/var/nginx/nginx.conf" -e "$root/var/nginx/error.log" &
web=$!

stopping=0
stop() {
  [[ $stopping -eq 1 ]] && return
  stopping=1
  echo
  echo "stopping portcullis, its mail deliverer and nginx..."
  kill -TERM "$web" "$master" "$mailer" 2>/dev/null || true
  wait "$web" "$master" "$mailer" 2>/dev/null || true
  echo "stopped"
}
trap stop INT TERM EXIT

for _ in $(seq 100); do
  if curl -s -o /dev/null "http://127.0.0.1:$port/api/v1/health"; then
    break
  fi
  sleep 0.1
done
echo
echo "portcullis is running on http://localhost:$port   (Ctrl-C stops it)"
echo
# Return as soon as either process ends; the trap stops the other one.
wait -n "$web" "$master" || true
