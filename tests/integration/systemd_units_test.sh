#!/usr/bin/env bash
# systemd_units_test.sh REPO_DIR BINARY
#
# Renders the five units of systemd/ with @BINDIR@ = the directory of BINARY (the built
# `portcullis`) into a temp unit directory, then
#   1. `systemd-analyze verify` must pass and say nothing about our units: an unknown or misspelt
#      key is only a warning there (exit 0, the setting silently ignored), so any diagnostic that
#      names one of our units or files fails the test;
#   2. the sandbox lines of portcullis.service, portcullis-maintenance.service and
#      portcullis-mailer.service must be the same;
#   3. `systemd-analyze security --offline=true` must rate the three services at most 2.0 (DESIGN §10).
# Neither needs systemd as PID 1, root, or the `portcullis` user: verify checks syntax, the
# dependency graph and that ExecStart= is an executable file; it does not resolve User=/Group=,
# so nothing host-specific has to be faked. Exit 0 when all pass.
set -euo pipefail

readonly max_exposure=2.0
readonly units=(portcullis.service portcullis.socket portcullis-maintenance.service
    portcullis-maintenance.timer portcullis-mailer.service)

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

[[ $# -eq 2 ]] || {
    echo "usage: $0 REPO_DIR BINARY" >&2
    exit 2
}
repo=$(cd "$1" && pwd -P)
binary=$(realpath -e -- "$2" 2>/dev/null) || fail "BINARY not found: $2 (build it first)"
[[ -f $binary && -x $binary ]] || fail "BINARY is not an executable file: $binary"
[[ $(basename -- "$binary") == portcullis ]] ||
    fail "BINARY must be named portcullis (the units run @BINDIR@/portcullis): $binary"
bindir=$(dirname -- "$binary")
[[ $bindir =~ ^[A-Za-z0-9_./+=:,~-]+$ ]] || fail "unsupported characters in $bindir"
command -v systemd-analyze >/dev/null || fail "systemd-analyze is not installed"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/portcullis-systemd-test.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
unit_dir=$tmp/units
mkdir -p "$unit_dir"

for unit in "${units[@]}"; do
    [[ -f $repo/systemd/$unit ]] || fail "missing systemd/$unit"
    sed "s|@BINDIR@|$bindir|g" "$repo/systemd/$unit" >"$unit_dir/$unit"
    if leftover=$(grep -o '@[A-Z_]*@' "$unit_dir/$unit"); then
        fail "systemd/$unit has unfilled placeholder(s): $leftover"
    fi
done

# --- 1. verify ---------------------------------------------------------------------------------
# Our directory first on the unit search path, so Requires=portcullis.socket and the timer's
# service resolve to the rendered copies, never to units installed on this machine. With
# --recursive-errors=one, errors in our units and in the units they reference directly (a
# missing portcullis.socket, say) fail; the state of unrelated units on the host does not.
verify_out=$tmp/verify.out
verify_rc=0
(cd "$unit_dir" && SYSTEMD_UNIT_PATH="$unit_dir:" systemd-analyze verify \
    --recursive-errors=one "${units[@]/#/$unit_dir/}") >"$verify_out" 2>&1 || verify_rc=$?
if ((verify_rc != 0)); then
    fail "systemd-analyze verify exited $verify_rc:
$(cat "$verify_out")"
fi
if grep -E "portcullis|$tmp" "$verify_out" >"$tmp/verify.ours"; then
    fail "systemd-analyze verify complains about our units:
$(cat "$tmp/verify.ours")"
fi
if [[ -s $verify_out ]]; then
    echo "note: systemd-analyze verify, about units of this host (ignored):"
    sed 's/^/  /' "$verify_out"
fi
echo "systemd-analyze verify: ok (${units[*]})"

# --- 2. one sandbox for both services -----------------------------------------------------------
# Everything from User= to the end of [Service]: identity, credentials and hardening.
sandbox() {
    sed -n '/^User=/,/^\[/p' "$1" | grep -vE '^(#|\[|$)' || true
}
for other in portcullis-maintenance.service portcullis-mailer.service; do
    if ! diff <(sandbox "$unit_dir/portcullis.service") \
        <(sandbox "$unit_dir/$other") >"$tmp/sandbox.diff"; then
        fail "$other must use the sandbox of portcullis.service:
$(cat "$tmp/sandbox.diff")"
    fi
done
[[ -n $(sandbox "$unit_dir/portcullis.service") ]] || fail "no sandbox found in portcullis.service"
echo "sandbox: portcullis-maintenance.service and portcullis-mailer.service match portcullis.service"

# --- 3. exposure -------------------------------------------------------------------------------
status=0
for unit in portcullis.service portcullis-maintenance.service portcullis-mailer.service; do
    out=$tmp/security-$unit.out
    SYSTEMD_UNIT_PATH="$unit_dir:" systemd-analyze security --offline=true --no-pager \
        "$unit_dir/$unit" >"$out" 2>&1 || fail "systemd-analyze security failed on $unit:
$(cat "$out")"
    exposure=$(sed -n "s/.*Overall exposure level for $unit: \([0-9.]*\).*/\1/p" "$out")
    [[ $exposure =~ ^[0-9]+(\.[0-9]+)?$ ]] || fail "no exposure level for $unit in:
$(cat "$out")"
    if awk -v e="$exposure" -v m="$max_exposure" 'BEGIN { exit !(e <= m) }'; then
        echo "exposure: $unit $exposure (limit $max_exposure) ok"
    else
        echo "FAIL: exposure of $unit is $exposure, above $max_exposure; findings:" >&2
        grep '✗' "$out" >&2 || true
        status=1
    fi
done
exit "$status"
