#!/usr/bin/env bash
# handlers/ → app/ → libraries: a file in app/ other than main.cpp must not
# include a handler header.
set -euo pipefail
root="$1"
bad=$(grep -rln '#include "handlers/' "$root/app" | grep -v '/app/main.cpp$' || true)
if [[ -n "$bad" ]]; then
  echo "layering violation: these app/ files include handlers/:" >&2
  echo "$bad" >&2
  exit 1
fi
echo "layering ok"
