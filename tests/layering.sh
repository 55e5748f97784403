#!/usr/bin/env bash
# The module order of DESIGN §3, as a matrix of who may include whom (STYLE
# §4.5, after nginx's ngx_modules list). Prints every #include that breaks it,
# as file:line, and fails; a new include cycle therefore fails the build.
#
#   handlers/ → app/ → libraries: nothing in app/ but main.cpp includes handlers/.
#   Only app/http and handlers/ name ApiError; the core below returns outcomes.
#   Inside app/, one straight line, top to bottom:
#     cli → server → http → mail → auth → store → db → log → config → crypto → text
#   main.cpp and cli/ are the top (commands wire everything); a module may
#   include only the modules listed in its row, never one above it.
set -euo pipefail
root="$1"

# Row: the app/ modules a module may include (besides itself).
declare -A may_include=(
  [cli]="server http mail auth store db log config crypto text"
  [server]="http mail auth store db log config crypto text"
  [http]="mail auth store db log config crypto text"  # the only core module that knows ApiError
  [mail]="auth store db log config crypto text"    # outbox delivery (composition, SMTP, files)
  [auth]="store db log config crypto text"         # services: outcomes, never HTTP errors
  [store]="db log config crypto text"              # all SQL (issue #10)
  [db]="log config crypto text"                    # connection, migrations, transactions
  [log]="config crypto text"                       # logger and audit trail
  [config]="crypto text"                           # parses into crypto's DataKey
  [crypto]="text"
  [text]=""                                        # UTF-8 and ASCII text helpers
)

# Known exceptions (module → target), each with the reason it still stands.
# Empty: the line is clean.
declare -A known_exception=()

status=0

# handlers/ never from app/ (main.cpp registers the routes).
while IFS= read -r hit; do
  [[ -z "$hit" ]] && continue
  file="${hit%%:*}"
  [[ "$file" == "$root/app/main.cpp" ]] && continue
  echo "layering violation: app/ includes handlers/: ${hit#"$root/"}" >&2
  status=1
done < <(grep -rn '#include "handlers/' "$root/app" || true)

# Only app/http and handlers/ know ApiError (DESIGN §3): the modules below
# return outcomes, and server and cli never build an HTTP error themselves.
while IFS= read -r hit; do
  [[ -z "$hit" ]] && continue
  rel="${hit#"$root/"}"
  [[ "$rel" == app/http/* ]] && continue
  [[ "$(cut -d: -f3- <<<"$rel")" =~ ^[[:space:]]*// ]] && continue  # a comment may name it
  echo "layering violation: only app/http and handlers/ may use ApiError: ${rel%%:*}:$(cut -d: -f2 <<<"$rel")" >&2
  status=1
done < <(grep -rnw 'ApiError' "$root/app" || true)

# Every module directory under app/ must have a row.
for dir in "$root"/app/*/; do
  module="$(basename "$dir")"
  if [[ -z "${may_include[$module]+set}" ]]; then
    echo "layering: app/$module/ has no row in tests/layering.sh; add it to the module order" >&2
    status=1
  fi
done

# Every #include "app/<target>/…" in app/<module>/ must be in the module's row.
while IFS= read -r hit; do
  [[ -z "$hit" ]] && continue
  rel="${hit#"$root/"}"          # app/<module>/file:line:#include "app/<target>/…"
  file="${rel%%:*}"
  rest="${rel#*:}"
  line="${rest%%:*}"
  text="${rest#*:}"
  module="$(cut -d/ -f2 <<<"$file")"
  [[ "$file" == "app/main.cpp" ]] && continue
  target="$(sed -E 's|.*#include "app/([^/"]+)/.*|\1|' <<<"$text")"
  [[ "$target" == "$module" ]] && continue
  allowed=" ${may_include[$module]:-} "
  if [[ "$allowed" == *" $target "* ]]; then
    continue
  fi
  if [[ -n "${known_exception[$module→$target]:-}" ]]; then
    continue
  fi
  echo "layering violation: $module may not include $target: $file:$line: $text" >&2
  status=1
done < <(grep -rn '#include "app/' "$root/app" || true)

if [[ $status -ne 0 ]]; then
  echo "layering: see the module order in tests/layering.sh (DESIGN §3)" >&2
  exit 1
fi
echo "layering ok"
