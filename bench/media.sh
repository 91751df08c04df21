#!/usr/bin/env bash
# The media benchmark (issue 14, docs/benchmarks.md). It starts a Release
# `pstudio serve` as a user would on a fresh machine: SQLite in a temporary
# data directory, the offline writer, espeak-ng and the cairo cards, its
# in-process workers (or, with --worker-processes N, `pstudio worker`
# processes beside a serve that runs none). bench_media then drives it over
# HTTP: a project of 10 scenes, scripted, narrated and drawn until every
# scene is COMPLETED, --runs times, printed as a real-time factor (wall time
# over the narration's length; target <= 0.01), and the same scenes' stages
# one at a time so the figure is explained. Nothing here asserts a timing.
#
#   bench/media.sh [--runs N] [--scenes N] [--language L] [--workers N]
#                  [--worker-processes N] [--poll-ms N] [--baseline GIT-REF] [--keep]
#
# --baseline builds GIT-REF's pstudio too (Release, in a temporary
# worktree) and, right after this build's runs, drives it the same way on a
# data directory of its own: the report then gives this build's median wall
# time as a ratio of the baseline's, measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

runs=3
scenes=10
language=en-US
workers=2
worker_procs=0
poll_ms=10
baseline=""
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
  --runs) runs=$2; shift 2 ;;
  --scenes) scenes=$2; shift 2 ;;
  --language) language=$2; shift 2 ;;
  --workers) workers=$2; shift 2 ;;
  --worker-processes) worker_procs=$2; shift 2 ;;
  --poll-ms) poll_ms=$2; shift 2 ;;
  --baseline) baseline=$2; shift 2 ;;
  --keep) keep=1; shift ;;
  -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
  *) echo "media.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
say() { echo "bench: $*" >&2; }

scripts/install-deps.sh
say "building (Release) in build-bench"
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DPSTUDIO_BENCH=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build build-bench -j2 --target pstudio bench_media >/dev/null
bin=$root/build-bench

work=$(mktemp -d "${TMPDIR:-/tmp}/pstudio-media.XXXXXX")
pids=()
stop_pstudio() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  pids=()
}
cleanup() {
  stop_pstudio
  if [ -n "$baseline" ]; then git -C "$root" worktree remove --force "$work/base" 2>/dev/null || true; fi
  if [ "$keep" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# Starts the pstudio binary $1 on a fresh SQLite data directory $2: serve,
# and the worker processes when asked for; sets port and server_pid.
start_pstudio() {
  local pbin=$1 data=$2 i serve_workers=$workers
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  export PSTUDIO_DATA_DIR=$data PSTUDIO_DATABASE_URL=sqlite://$data/pstudio.db
  mkdir -p "$data"
  "$pbin" migrate >"$data/migrate.log" 2>&1 || { cat "$data/migrate.log" >&2; exit 1; }
  [ "$worker_procs" -gt 0 ] && serve_workers=0
  PSTUDIO_PORT=$port PSTUDIO_BIND=127.0.0.1 PSTUDIO_WORKERS=$serve_workers \
    "$pbin" serve 2>"$data/serve.log" &
  server_pid=$!
  pids+=("$server_pid")
  for i in $(seq "$worker_procs"); do
    PSTUDIO_WORKERS=$workers "$pbin" worker 2>"$data/worker-$i.log" &
    pids+=($!)
  done
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { say "the server did not start"; cat "$data/serve.log" >&2; exit 1; }
}
run_bench() {
  "$bin/bench/bench_media" --server-pid "$server_pid" --base "http://127.0.0.1:$port" \
    --db "$PSTUDIO_DATABASE_URL" --scenes "$scenes" --runs "$runs" --language "$language" \
    --poll-ms "$poll_ms"
}

if [ -n "$baseline" ]; then
  base_rev=$(git rev-parse --short "$baseline")
  say "building the baseline $baseline ($base_rev, Release) in $work/base"
  git worktree add -q --detach "$work/base" "$baseline"
  cmake -S "$work/base" -B "$work/base/build" -DCMAKE_BUILD_TYPE=Release -DPSTUDIO_BENCH=OFF \
    -DBUILD_TESTING=OFF >/dev/null
  cmake --build "$work/base/build" -j2 --target pstudio >/dev/null
fi

where="serve with $workers in-process workers"
[ "$worker_procs" -gt 0 ] && where="serve with no workers, $worker_procs pstudio worker process(es) of $workers workers"
echo "# Persona Studio media benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')); $(. /etc/os-release; echo "$PRETTY_NAME"); $(ffmpeg -version | head -1 | awk '{print $1, $2, $3}'); espeak-ng $(dpkg-query -W -f='${Version}' libespeak-ng1 2>/dev/null || echo '?'); pstudio $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo '+changes')"
echo "Load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Command: bench/media.sh --runs $runs --scenes $scenes --language $language --workers $workers --worker-processes $worker_procs --poll-ms $poll_ms${baseline:+ --baseline $baseline} ($where, SQLite)"
echo
start_pstudio "$bin/pstudio" "$work/data"
run_bench | tee "$work/this.txt"
stop_pstudio
if [ -n "$baseline" ]; then
  echo
  echo "## The baseline $baseline ($base_rev), driven the same way right after"
  echo
  start_pstudio "$work/base/build/pstudio" "$work/base-data"
  run_bench | tee "$work/base.txt"
  stop_pstudio
  wall() { sed -n 's/^  end to end .*COMPLETED: \([0-9]*\) ms$/\1/p' "$1"; }
  echo
  echo "This build's median wall time over the baseline's: $(awk -v a="$(wall "$work/this.txt")" \
    -v b="$(wall "$work/base.txt")" 'BEGIN { printf "%.2f (%d ms / %d ms)", a / b, a, b }')"
fi
