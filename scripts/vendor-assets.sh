#!/usr/bin/env bash
# Refreshes the vendored front-end files from the npm registry (no CDN at run time: hospitals run offline LANs).
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:-2.0.11}"
work=$(mktemp -d)
(cd "$work" && npm pack "htmx.org@$version" >/dev/null && tar xzf htmx.org-*.tgz)
cp "$work/package/dist/htmx.min.js" crates/web/assets/htmx.min.js
cp "$work/package/LICENSE" crates/web/assets/htmx.LICENSE
rm -rf "$work"
echo "htmx $version vendored into crates/web/assets/"
