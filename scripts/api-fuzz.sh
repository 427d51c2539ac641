#!/usr/bin/env bash
# Fuzzes the JSON API (/api/v1) with schemathesis against a fresh demo: every operation, generated and
# mutated inputs, signed in as the platform administrator and as a coordinator. Fails on any server error
# (5xx) or any answer the OpenAPI document does not describe (status, content type, schema).
# Needs: Python 3 (schemathesis is installed from PyPI if missing) and the debug binary (cargo build).
# Usage: bash scripts/api-fuzz.sh [max examples per operation, default 100]
set -euo pipefail
cd "$(dirname "$0")/.."
examples="${1:-100}"

if ! command -v schemathesis >/dev/null; then
  python3 -m pip install -q schemathesis
fi
cargo build -q --bin maillage
binary=target/debug/maillage

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:${port}"
data=$(mktemp -d)
log="$data/serve.log"
"$binary" demo --data-dir "$data" --bind "127.0.0.1:${port}" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 120); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "$base/healthz" >/dev/null

# Signs in through the login form; prints "session-cookie csrf-token".
sign_in() {
  local email="$1" jar="$data/jar-$1"
  local form csrf page
  form=$(curl -fsS -c "$jar" "$base/connexion")
  csrf=$(printf '%s' "$form" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -n 1)
  curl -fsS -o /dev/null -b "$jar" -c "$jar" \
    --data-urlencode "email=$email" --data-urlencode "password=demo-maillage-2026" \
    --data-urlencode "csrf=$csrf" --data-urlencode "suite=/" "$base/connexion"
  page=$(curl -fsS -b "$jar" "$base/")
  printf '%s %s\n' \
    "$(awk '$6 == "maillage_session" {print $7}' "$jar")" \
    "$(printf '%s' "$page" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -n 1)"
}

status=0
for email in admin@maillage.test coordination@camargue.test; do
  read -r session csrf < <(sign_in "$email")
  if [ -z "$session" ]; then
    echo "cannot sign in as $email" >&2
    exit 1
  fi
  echo "== schemathesis as $email"
  schemathesis run "$base/api/v1/openapi.json" \
    --url "$base" \
    -H "Cookie: maillage_session=$session" \
    -H "X-CSRF-Token: $csrf" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "$examples" \
    --no-color || status=1
done
exit $status
