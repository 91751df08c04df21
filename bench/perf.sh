#!/usr/bin/env bash
# The persona-performance benchmark (issue 12, docs/benchmarks.md). For each
# engine it fills a fresh database at the seed's first-year scale (bench_gen:
# 10K channels, 300K channel_analytics DAY rows, 500K persona_usage_logs, and
# the channels' assignment log with switches inside the range), then runs
# bench_perf: the leaderboard and a persona's performance, as the service
# runs them, for a typical user and for an admin, each beside a full scan of
# the three tables they read, measured in the same run. Figures are medians
# and ratios against the scan; nothing here asserts a timing.
#
#   bench/perf.sh [--engines "postgres sqlite"] [--runs N] [--scale F] [--keep]
#
# PostgreSQL is a throwaway cluster (scripts/pg-temp.sh). Build: Release, in
# build-bench, like bench/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

engines="postgres sqlite"
runs=9
scale=1
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
  --engines) engines=$2; shift 2 ;;
  --runs) runs=$2; shift 2 ;;
  --scale) scale=$2; shift 2 ;;
  --keep) keep=1; shift ;;
  -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
  *) echo "perf.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
say() { echo "bench: $*" >&2; }

say "building (Release) in build-bench"
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DPSTUDIO_BENCH=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build build-bench -j2 --target bench_gen bench_perf >/dev/null
bin=$root/build-bench

work=$(mktemp -d "${TMPDIR:-/tmp}/pstudio-perf.XXXXXX")
chmod 755 "$work"
pg_dir=""
cleanup() {
  if [ -n "$pg_dir" ]; then "$root/scripts/pg-temp.sh" stop "$pg_dir" || true; fi
  if [ "$keep" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

for engine in $engines; do
  dir=$work/$engine
  mkdir -p "$dir"
  if [ "$engine" = postgres ]; then
    pg_dir=$work/pg
    admin=$("$root/scripts/pg-temp.sh" start "$pg_dir")
    psql_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/psql
    "$psql_bin" -X -q "$admin" -c "CREATE DATABASE bench"
    url=${admin%/*}/bench
  else
    url=sqlite://$dir/bench.db
  fi
  say "$engine: generating the data set"
  "$bin/bench/bench_gen" --url "$url" --out "$dir" --scale "$scale"
  say "$engine: measuring ($runs runs)"
  "$bin/bench/bench_perf" --url "$url" --runs "$runs" | tee "$dir/perf.txt"
  if [ "$engine" = postgres ]; then
    "$root/scripts/pg-temp.sh" stop "$pg_dir"
    pg_dir=""
  fi
done
