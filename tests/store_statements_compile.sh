#!/usr/bin/env bash
# A tenant statement must bind the tenant as $1, and a tenant-data function
# must get a TenantTx: both are refused at compile time. This builds three
# snippets against the real headers: one that must compile (the control, so a
# broken include path cannot pass for a refusal) and two that must fail with
# the refusal they name.
set -euo pipefail
export LC_ALL=C  # plain quotes in the compiler's messages
root="$1"
cxx="${2:-c++}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
flags=(-std=c++20 -fsyntax-only -I "$root" -isystem /usr/include/postgresql)

cat >"$work/good.cpp" <<'CPP'
#include "app/store/memories.h"
namespace portcullis {
constexpr TenantStatement kGood{"t.good", "SELECT id FROM t WHERE tenant_id = $1 AND id = $2"};
void call(TenantTx& tx) { (void)store::memories::find(tx, "id"); }
}  // namespace portcullis
CPP

cat >"$work/no_tenant_parameter.cpp" <<'CPP'
#include "app/db/statement.h"
namespace portcullis {
constexpr TenantStatement kBad{"t.bad", "SELECT id FROM t WHERE id = $2"};
}  // namespace portcullis
CPP

cat >"$work/no_tenant_handle.cpp" <<'CPP'
#include "app/store/memories.h"
namespace portcullis {
void call(Tx& tx) { (void)store::memories::find(tx, "id"); }
}  // namespace portcullis
CPP

status=0
if ! "$cxx" "${flags[@]}" "$work/good.cpp" 2>"$work/good.err"; then
  echo "control snippet does not compile:" >&2
  cat "$work/good.err" >&2
  exit 1
fi
check_refused() {
  local name="$1" expect="$2"
  if "$cxx" "${flags[@]}" "$work/$name.cpp" 2>"$work/$name.err"; then
    echo "FAIL: $name compiled; it must be refused" >&2
    status=1
  elif ! grep -q -- "$expect" "$work/$name.err"; then
    echo "FAIL: $name refused for another reason (wanted: $expect):" >&2
    head -20 "$work/$name.err" >&2
    status=1
  else
    echo "ok: $name refused ($expect)"
  fi
}
check_refused no_tenant_parameter "binds the tenant id as \$1"
check_refused no_tenant_handle "invalid initialization of reference of type 'portcullis::TenantTx&'"
exit $status
