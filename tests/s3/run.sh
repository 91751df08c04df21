#!/usr/bin/env bash
# ctest entry of the S3 media store's test (tests/test_media_s3.c):
#   tests/s3/run.sh TEST_BINARY SOURCE_DIR BUILD_DIR
# Installs the S3-protocol server as tests/s3/package-lock.json pins it
# into BUILD_DIR/s3-test (again only when the lockfile changes), then runs
# the test, which starts tests/s3/server.js on loopback. Node.js and npm
# come with scripts/install-deps.sh test; without them the test fails.
set -euo pipefail
test_bin=$1 src=$2 build=$3
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "test_media_s3: node and npm are needed (scripts/install-deps.sh test)" >&2
    exit 1
fi
mods=$build/s3-test
if ! cmp -s "$src/tests/s3/package-lock.json" "$mods/package-lock.json" ||
    [ ! -d "$mods/node_modules/@20minutes/s3rver" ]; then
    # Two engines' runs may start together: one installs, the other waits.
    exec 9>"$build/s3-test.lock"
    flock 9
    if ! cmp -s "$src/tests/s3/package-lock.json" "$mods/package-lock.json" ||
        [ ! -d "$mods/node_modules/@20minutes/s3rver" ]; then
        rm -rf "$mods"
        mkdir -p "$mods"
        cp "$src/tests/s3/package.json" "$src/tests/s3/package-lock.json" "$mods/"
        # The package asks for Node 24 but runs on Debian's 20 (decision 126).
        (cd "$mods" && npm ci --ignore-scripts --no-audit --no-fund --engine-strict=false >/dev/null 2>&1)
    fi
    flock -u 9
fi
export PSTUDIO_TEST_S3_MODULES=$mods/node_modules
exec "$test_bin"
