#!/usr/bin/env bash
# Copies the dashboard's third-party modules into web/vendor/, exactly as the
# committed web/package-lock.json pins them, with their licenses. The copy is
# committed, so building and serving need no npm; CI runs this again and
# checks that nothing changed (git diff --exit-code web/vendor).
#   scripts/vendor-web.sh
# The one edit: preact's hooks module imports the bare name "preact", which a
# browser resolves only through an import map (inline script, which the
# dashboard's Content-Security-Policy forbids); it is pointed at the file
# beside it instead. The script fails if that import is not found once.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pstudio-vendor.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

cp "$root/web/package.json" "$root/web/package-lock.json" "$tmp/"
(cd "$tmp" && npm ci --ignore-scripts --no-audit --no-fund --omit=dev >/dev/null)
nm="$tmp/node_modules"
out="$root/web/vendor"
rm -rf "$out"
mkdir -p "$out/preact" "$out/htm" "$out/i18next" "$out/uplot"

cp "$nm/preact/dist/preact.mjs" "$nm/preact/LICENSE" "$out/preact/"
n=$(grep -o 'from"preact"' "$nm/preact/hooks/dist/hooks.mjs" | wc -l)
if [ "$n" != 1 ]; then
    echo "vendor-web: preact/hooks imports \"preact\" $n times, not once; update this script" >&2
    exit 1
fi
sed 's|from"preact"|from"./preact.mjs"|' "$nm/preact/hooks/dist/hooks.mjs" >"$out/preact/hooks.mjs"
cp "$nm/htm/dist/htm.mjs" "$nm/htm/LICENSE" "$out/htm/"
cp "$nm/i18next/dist/esm/i18next.js" "$nm/i18next/LICENSE" "$out/i18next/"
# uPlot (the channel's analytics chart): its module and its stylesheet, which
# index.html links (the CSP allows style-src 'self' files; uPlot sizes its
# elements through el.style, which a CSP does not restrict).
cp "$nm/uplot/dist/uPlot.esm.js" "$nm/uplot/dist/uPlot.min.css" "$nm/uplot/LICENSE" "$out/uplot/"
# No source maps: they name files that are not served.
sed -i '/^\/\/# sourceMappingURL=/d' "$out"/*/*.mjs "$out"/*/*.js
for p in preact htm i18next uplot; do
    v=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$nm/$p/package.json")
    echo "$p $v" >>"$out/VERSIONS.txt"
done
