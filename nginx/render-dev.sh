#!/usr/bin/env bash
# Render nginx/dev.conf.in into a runnable nginx.conf for development and tests.
#
#   nginx/render-dev.sh OUT_CONF PREFIX PORT FCGI_SOCKET [AUTH_RATE [AUTH_BURST]]
#
#   OUT_CONF     file to write (its directory is created)
#   PREFIX       private directory for nginx's pid, logs and temp files (created 0700 if new)
#   PORT         TCP port nginx listens on, on 127.0.0.1 only
#   FCGI_SOCKET  unix socket path of `portcullis serve`
#   AUTH_RATE    limit_req rate of /api/v1/auth/, /api/v1/mfa/ and the old aliases (default 30r/m)
#   AUTH_BURST   limit_req burst of the same (default 20)
#
# Environment:
#   PORTCULLIS_TRUSTED_PROXY  addresses or CIDR ranges (comma- or space-separated) of proxies or
#                load balancers in front of nginx. nginx's real_ip module then takes the client
#                address from the X-Forwarded-For they send (real_ip_recursive: the right-most
#                address that is not itself trusted); from any other peer the header is ignored.
#                Unset: the TCP peer is the client. The app never reads X-Forwarded-For itself;
#                it sees only $remote_addr (REMOTE_ADDR).
#
# Then start nginx in the foreground (the config says `daemon off`):
#   nginx -p PREFIX -c OUT_CONF -e PREFIX/error.log
set -euo pipefail

die() {
    echo "render-dev.sh: $*" >&2
    exit 2
}

if [[ $# -lt 4 || $# -gt 6 ]]; then
    sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi

out_conf=$1
prefix=$2
port=$3
fcgi_socket=$4
auth_rate=${5:-30r/m}
auth_burst=${6:-20}

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
template=$script_dir/dev.conf.in
[[ -r $template ]] || die "template not found: $template"

# Validate every value before it goes into sed and into nginx's syntax: a path with a space, a
# quote, ';', '{', '}', '$', '#', '\', '|' or '&' would break one or the other.
if ! [[ $port =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
    die "PORT must be 1-65535: $port"
fi
[[ $auth_rate =~ ^[0-9]+r/[sm]$ ]] || die "AUTH_RATE must look like 30r/m or 10r/s: $auth_rate"
[[ $auth_burst =~ ^[0-9]+$ ]] || die "AUTH_BURST must be a number: $auth_burst"
real_ip='# PORTCULLIS_TRUSTED_PROXY unset: the TCP peer is the client; X-Forwarded-For is ignored.'
trusted=${PORTCULLIS_TRUSTED_PROXY:-}
if [[ -n ${trusted//[, ]/} ]]; then
    real_ip=''
    for address in ${trusted//,/ }; do
        if ! [[ $address =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}(/[0-9]{1,2})?$ ||
            $address =~ ^[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*(/[0-9]{1,3})?$ ]]; then
            die "PORTCULLIS_TRUSTED_PROXY: not an IP address or CIDR range: $address"
        fi
        real_ip+="set_real_ip_from $address; "
    done
    real_ip+='real_ip_header X-Forwarded-For; real_ip_recursive on;'
fi
safe_path='^[A-Za-z0-9_./@+=:,~-]+$'
for value in "$out_conf" "$prefix" "$fcgi_socket" "$script_dir"; do
    [[ $value =~ $safe_path ]] || die "unsupported characters in path: $value"
done

# nginx resolves relative paths against its own prefix, not our cwd: make them absolute.
prefix=$(realpath -m -- "$prefix")
fcgi_socket=$(realpath -m -- "$fcgi_socket")
out_conf=$(realpath -m -- "$out_conf")

# A new prefix is private (0700); an existing one keeps its mode, since the caller may share it
# (e.g. with a PostgreSQL cluster whose owner must traverse it).
if [[ ! -d $prefix ]]; then
    mkdir -p -- "$prefix"
    chmod 0700 -- "$prefix"
fi
for dir in client_body_temp proxy_temp fastcgi_temp uwsgi_temp scgi_temp; do
    mkdir -p -- "$prefix/$dir"
    chmod 0700 -- "$prefix/$dir"
done
mkdir -p -- "$(dirname -- "$out_conf")"

# As root, nginx would otherwise switch its workers to "nobody", who may be unable to read a
# private checkout or connect to the app's socket; so render `user root;` (dev and tests only).
# As another user nginx cannot switch users at all, and the directive would only warn.
if [[ $EUID -eq 0 ]]; then
    user_directive='user root;'
else
    user_directive=''
fi

tmp_conf=$(mktemp "$out_conf.XXXXXX")
trap 'rm -f -- "$tmp_conf"' EXIT
sed \
    -e "s|@PREFIX@|$prefix|g" \
    -e "s|@PORT@|$port|g" \
    -e "s|@FCGI_SOCKET@|$fcgi_socket|g" \
    -e "s|@HTML_ROOT@|$script_dir/html|g" \
    -e "s|@NGINX_DIR@|$script_dir|g" \
    -e "s|@USER_DIRECTIVE@|$user_directive|g" \
    -e "s|@AUTH_RATE@|$auth_rate|g" \
    -e "s|@AUTH_BURST@|$auth_burst|g" \
    -e "s|@REAL_IP@|$real_ip|g" \
    "$template" >"$tmp_conf"

if leftover=$(grep -o '@[A-Z_]*@' "$tmp_conf"); then
    die "unfilled placeholder(s) in $template: $(echo "$leftover" | sort -u | tr '\n' ' ')"
fi
chmod 0644 -- "$tmp_conf"
mv -f -- "$tmp_conf" "$out_conf"
trap - EXIT
