#!/usr/bin/env bash
# The video render benchmark (docs/benchmarks.md, issue 14). Serves a fresh
# SQLite database with the offline writer, narrator and card renderer (no
# keys, no network), writes a project of --scenes scenes, narrates and draws
# it, then renders the video --runs times and prints each render's real-time
# factor: wall time from POST …/render to "rendered", over the video's
# length. The ffmpeg preset is the one the render uses (libx264 veryfast,
# decision 104). Nothing here asserts a timing.
#
#   bench/render.sh [--build DIR] [--scenes N] [--runs N] [--aspect 16:9|9:16]
#                   [--subtitles soft|burn|none] [--music none|ambient]
#
# Run it under the build lock on a shared machine:
#   flock /tmp/pstudio-build.lock bench/render.sh
set -euo pipefail
cd "$(dirname "$0")/.."

build=build
scenes=10
runs=3
aspect="16:9"
subtitles=soft
music=ambient
while [ $# -gt 0 ]; do
  case "$1" in
  --build) build=$2; shift 2 ;;
  --scenes) scenes=$2; shift 2 ;;
  --runs) runs=$2; shift 2 ;;
  --aspect) aspect=$2; shift 2 ;;
  --subtitles) subtitles=$2; shift 2 ;;
  --music) music=$2; shift 2 ;;
  -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
  *) echo "render.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
for tool in curl jq ffprobe; do
  command -v "$tool" >/dev/null || { echo "render.sh: needs $tool" >&2; exit 2; }
done
bin=$(realpath "$build/pstudio")
dir=$(mktemp -d)
port=$((20000 + $$ % 20000))
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT

export PSTUDIO_DATA_DIR=$dir PSTUDIO_PORT=$port PSTUDIO_WORKERS=2
"$bin" migrate >"$dir/migrate.log" 2>&1
"$bin" serve >"$dir/serve.log" 2>&1 &
server=$!
base="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.1; done

H='Content-Type: application/json'
token=$(curl -sf "$base/api/v1/auth/signup" -H "$H" \
  -d '{"email":"bench@example.com","password":"a long bench passphrase"}' | jq -r .token)
A="Authorization: Bearer $token"

# Polls GET url until the jq filter is true.
wait_for() {
  local url=$1 filter=$2
  for _ in $(seq 6000); do
    curl -sf "$url" -H "$A" | jq -e "$filter" >/dev/null && return 0
    sleep 0.1
  done
  echo "render.sh: timed out waiting for $filter" >&2
  tail -20 "$dir/serve.log" >&2
  exit 1
}

id=$(curl -sf "$base/api/v1/projects" -H "$A" -H "$H" \
  -d "{\"topic\":\"How do lighthouses work?\",\"language\":\"en\",\"target_scenes\":$scenes}" | jq -r .id)
wait_for "$base/api/v1/projects/$id" '.status == "scripted"'
curl -sf -X POST "$base/api/v1/projects/$id/media" -H "$A" >/dev/null
wait_for "$base/api/v1/projects/$id" '.media_ready == true'
n=$(curl -sf "$base/api/v1/projects/$id/scenes" -H "$A" | jq '.items | length')

echo "scenes: $n  options: aspect $aspect, subtitles $subtitles, music $music; libx264 preset veryfast, CRF 23"
echo "cpus: $(nproc)  ffmpeg: $(ffmpeg -hide_banner -version | head -1 | cut -d' ' -f3)"
for run in $(seq "$runs"); do
  start=$(date +%s.%N)
  curl -sf -X POST "$base/api/v1/projects/$id/render" -H "$A" -H "$H" \
    -d "{\"aspect\":\"$aspect\",\"subtitles\":\"$subtitles\",\"music\":\"$music\"}" >/dev/null
  wait_for "$base/api/v1/projects/$id" '.render_status == "rendered" or .render_status == "failed"'
  end=$(date +%s.%N)
  p=$(curl -sf "$base/api/v1/projects/$id" -H "$A")
  [ "$(jq -r .render_status <<<"$p")" = rendered ] || { jq -r .render_error <<<"$p" >&2; exit 1; }
  video_ms=$(jq .render_duration_ms <<<"$p")
  curl -sf "$base/api/v1/projects/$id/media/video.mp4" -H "$A" -o "$dir/video.mp4"
  probed=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$dir/video.mp4")
  awk -v s="$start" -v e="$end" -v v="$video_ms" -v r="$run" -v p="$probed" 'BEGIN {
    w = e - s; printf "run %d: wall %.2f s, video %.2f s (ffprobe %s s), real-time factor %.3f\n", r, w, v / 1000, p, w / (v / 1000) }'
done
