#!/usr/bin/env bash
# nginx_conf_test.sh REPO_DIR
#
# Checks that both nginx configurations load with `nginx -t`:
#   dev         nginx/dev.conf.in rendered by nginx/render-dev.sh (dummy port and socket);
#   production  nginx/portcullis.conf inside a minimal nginx.conf, with a throwaway self-signed
#               certificate, its snippets, log and temp paths all rewritten into a temp dir, so
#               the check reads and writes nothing under /etc or /var.
# `nginx -t` loads certificates, opens log files, resolves every include and variable, and tries
# to bind the listen addresses (an address already in use is fine; nothing keeps listening).
# Warnings count as failures: they mean a directive is ignored or duplicated. Exit 0 when both
# pass.
set -euo pipefail

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

[[ $# -eq 1 ]] || {
    echo "usage: $0 REPO_DIR" >&2
    exit 2
}
repo=$(cd "$1" && pwd -P)
command -v nginx >/dev/null || fail "nginx is not installed"
command -v openssl >/dev/null || fail "openssl is not installed"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/portcullis-nginx-test.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

# nginx_t NAME PREFIX CONF: run nginx -t, fail with its output on an error or a warning.
nginx_t() {
    local name=$1 prefix=$2 conf=$3 out
    if ! out=$(nginx -t -p "$prefix" -c "$conf" -e "$prefix/error.log" 2>&1); then
        fail "nginx -t rejected the $name configuration:
$out"
    fi
    if grep -q '\[warn\]' <<<"$out"; then
        fail "nginx -t warns about the $name configuration:
$out"
    fi
}

# --- development template ----------------------------------------------------------------------
dev=$tmp/dev
"$repo/nginx/render-dev.sh" "$dev/nginx.conf" "$dev/prefix" 18080 "$dev/fcgi.sock" 600r/m ||
    fail "nginx/render-dev.sh failed"
nginx_t dev "$dev/prefix" "$dev/nginx.conf"
echo "nginx -t: dev ok"

# With trusted proxies (#9 item 15): real_ip lines rendered, accepted by nginx; anything that is
# not an address or CIDR range is refused before it reaches the config.
PORTCULLIS_TRUSTED_PROXY="127.0.0.1, 10.0.0.0/8 ::1" \
    "$repo/nginx/render-dev.sh" "$dev/proxy.conf" "$dev/prefix" 18080 "$dev/fcgi.sock" ||
    fail "render-dev.sh failed with PORTCULLIS_TRUSTED_PROXY"
for want in "set_real_ip_from 127.0.0.1;" "set_real_ip_from 10.0.0.0/8;" "set_real_ip_from ::1;" \
    "real_ip_header X-Forwarded-For;" "real_ip_recursive on;"; do
    grep -qF -- "$want" "$dev/proxy.conf" || fail "rendered config lacks: $want"
done
grep -qE '^[^#]*set_real_ip_from' "$dev/nginx.conf" && fail "real_ip rendered without PORTCULLIS_TRUSTED_PROXY"
nginx_t dev-trusted-proxy "$dev/prefix" "$dev/proxy.conf"
for bad in "1.2.3.4; include /etc/passwd" "example.com" '$remote_addr' "10.0.0.0/8}"; do
    if PORTCULLIS_TRUSTED_PROXY=$bad "$repo/nginx/render-dev.sh" "$dev/bad.conf" "$dev/prefix" \
        18080 "$dev/fcgi.sock" 2>/dev/null; then
        fail "render-dev.sh accepted PORTCULLIS_TRUSTED_PROXY=$bad"
    fi
done
echo "nginx -t: dev with trusted proxy ok"

# --- production site ---------------------------------------------------------------------------
prod=$tmp/prod
mkdir -p "$prod/snippets" "$prod/ssl" "$prod/logs"
cp "$repo"/nginx/snippets/portcullis-*.conf "$prod/snippets/"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj /CN=portcullis.test -keyout "$prod/ssl/privkey.pem" -out "$prod/ssl/fullchain.pem" \
    >"$tmp/openssl.log" 2>&1 ||
    fail "openssl could not make a test certificate: $(cat "$tmp/openssl.log")"

sed -e "s|/etc/nginx/snippets/portcullis-|$prod/snippets/portcullis-|g" \
    -e "s|/etc/ssl/portcullis/|$prod/ssl/|g" \
    -e "s|/var/log/nginx/|$prod/logs/|g" \
    "$repo/nginx/portcullis.conf" >"$prod/portcullis.conf"
# nginx -t binds the listening sockets (it tolerates a port in use, not a refused one): an
# unprivileged user cannot bind ports below 1024, so move 80 and 443 up for the check.
if ((EUID != 0)); then
    sed -i -e 's/listen 80;/listen 18080;/' -e 's/listen \[::\]:80;/listen [::]:18080;/' \
        -e 's/listen 443 /listen 18443 /' -e 's/listen \[::\]:443 /listen [::]:18443 /' \
        "$prod/portcullis.conf"
    if leftover=$(grep -nE '^[^#]*listen +(\[::\]:)?(80|443)[ ;]' "$prod/portcullis.conf"); then
        fail "cannot move these ports for an unprivileged run:
$leftover"
    fi
fi
# Every host path the site file uses must have been rewritten, or nginx -t would read (or, for
# logs, create) files on this machine instead of ours.
host_paths='^[^#]*(/etc/nginx/snippets/|/etc/ssl/|/var/log/)'
if leftover=$(grep -nE "$host_paths" "$prod/portcullis.conf"); then
    fail "portcullis.conf uses paths this test does not rewrite:
$leftover"
fi

cat >"$prod/nginx.conf" <<CONF
pid $prod/nginx.pid;
error_log $prod/error.log;
events {}
http {
    include /etc/nginx/mime.types;
    client_body_temp_path $prod/client_body_temp;
    proxy_temp_path       $prod/proxy_temp;
    fastcgi_temp_path     $prod/fastcgi_temp;
    uwsgi_temp_path       $prod/uwsgi_temp;
    scgi_temp_path        $prod/scgi_temp;
    access_log $prod/logs/access.log;
    include $prod/portcullis.conf;
}
CONF
nginx_t production "$prod" "$prod/nginx.conf"
echo "nginx -t: production ok"
