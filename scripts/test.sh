#!/usr/bin/env bash
# The whole test suite: every test on SQLite and on PostgreSQL.
#   scripts/test.sh            (make test)
#   SANITIZE=1 scripts/test.sh (make test SANITIZE=1: ASan + UBSan build)
# Uses the PostgreSQL at PSTUDIO_TEST_PG_URL when set (an admin URL: the tests
# create and drop their own databases there); otherwise starts a throwaway
# cluster on loopback for the duration of the run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/install-deps.sh test

if [ "${SANITIZE:-0}" = 1 ]; then
  build=build-asan
  flags=(-DPSTUDIO_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  # fontconfig's process-lifetime caches (tests/lsan.supp says why).
  export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/tests/lsan.supp}
else
  build=build
  flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
fi
cmake -S . -B "$build" "${flags[@]}" -DBUILD_TESTING=ON -DPSTUDIO_BENCH=ON >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

if [ -z "${PSTUDIO_TEST_PG_URL:-}" ]; then
  pgdir=$(mktemp -d "${TMPDIR:-/tmp}/pstudio-pg.XXXXXX")
  trap '"$root/scripts/pg-temp.sh" stop "$pgdir"' EXIT
  PSTUDIO_TEST_PG_URL=$(scripts/pg-temp.sh start "$pgdir")
  export PSTUDIO_TEST_PG_URL
fi

cd "$build"
ctest --output-on-failure -j"$(nproc)"
