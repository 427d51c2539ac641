#!/usr/bin/env bash
# Runs every test of Maillage: Rust unit and integration tests on SQLite and PostgreSQL, then the browser tests.
# Needs: a PostgreSQL server (TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres; each test
# creates and drops its own database), Chromium at /usr/bin/chromium, and `npm ci` done in e2e/.
# `bash .ci/run` installs and starts all of that on a bare machine, then calls this script.
set -euo pipefail
cd "$(dirname "$0")/.."

export TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
# With CI set, a storage test that cannot reach PostgreSQL fails instead of running on SQLite only.
export CI="${CI:-true}"

echo "== Rust tests (SQLite and PostgreSQL at ${TEST_POSTGRES_URL%%@*}@…)"
cargo build --workspace --bins
# The README's first command is `cargo run --release -- demo`: `cargo run` must find the maillage binary.
cargo run -q -- --version
cargo test --workspace --no-fail-fast

echo "== Browser tests (Playwright + Chromium), screenshots in e2e/screenshots/"
(cd e2e && npm test)
