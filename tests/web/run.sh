#!/usr/bin/env bash
# ctest entry of the dashboard's browser test (tests/web/journey.mjs):
#   tests/web/run.sh LAUNCHER SOURCE_DIR BUILD_DIR
# Installs playwright-core and axe-core, as web/package-lock.json pins them,
# into BUILD_DIR/web-test (again only when the lockfile changes), then runs
# the launcher (tests/web_journey.c). Skips (exit 77) only when there is no
# Chromium: scripts/install-deps.sh test installs Debian's, so CI has it.
set -euo pipefail
launcher=$1 src=$2 build=$3
chrome=${PSTUDIO_CHROMIUM:-$(command -v chromium || true)}
if [ -z "$chrome" ]; then
    echo "web_journey: SKIPPED: no chromium on PATH (apt-get install chromium, or scripts/install-deps.sh test)"
    exit 77
fi
mods=$build/web-test
if ! cmp -s "$src/web/package-lock.json" "$mods/package-lock.json" || [ ! -d "$mods/node_modules/playwright-core" ]; then
    rm -rf "$mods"
    mkdir -p "$mods"
    cp "$src/web/package.json" "$src/web/package-lock.json" "$mods/"
    (cd "$mods" && npm ci --ignore-scripts --no-audit --no-fund >/dev/null)
fi
export PSTUDIO_CHROMIUM=$chrome
exec "$launcher" "$src/tests/web/journey.mjs" "$mods/node_modules" "$build/web-artifacts"
