#!/usr/bin/env bash
# The API benchmark (docs/benchmarks.md). For each engine it fills a fresh
# database at the seed's first-year scale (bench_gen), serves it with a
# Release build of pstudio, and loads five scenarios over loopback with wrk
# (64 connections, a closed loop: the maximum throughput). Then it offers
# each scenario half that rate, open loop (bench_openloop: requests due at
# fixed times, latency counted from then), for the latency percentiles.
# Beside each API figure it measures, in the same run, the
# ceiling: the same SQL statements, auth lookup included, driven straight at
# the engine (pgbench with bench/sql/<scenario>.sql on PostgreSQL,
# bench_ceiling with the same scripts on SQLite), with as many clients
# as the server has database connections. The figures are printed as ratios
# against that ceiling; nothing here asserts a timing.
#
#   bench/run.sh [--engines "postgres sqlite"] [--seconds N] [--http-threads N]
#                [--pool N] [--wrk-threads N] [--connections N] [--scale F] [--keep]
#                [--baseline GIT-REF] [--scenarios "personas_list …"]
#
# --baseline builds GIT-REF's server too and, right after each scenario,
# loads the same database through it the same way: the report then gives
# this build's figures as ratios against that baseline's, measured in the
# same run (a refactor must not make the API slower). The baseline's
# open-loop run is offered the same rate as this build's.
#
# Needs root or sudo the first time (apt-get install of wrk and the build and
# PostgreSQL packages). PostgreSQL is a throwaway cluster (scripts/pg-temp.sh)
# with pg_stat_statements loaded: after each PostgreSQL scenario the script
# lists the statements the server ran per request next to those of the
# ceiling, so a drift between bench/sql and the stores shows.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

engines="postgres sqlite"
seconds=15
warmup=3
http_threads=4
pool=4
wrk_threads=2
connections=64
scale=1
keep=0
baseline=""
while [ $# -gt 0 ]; do
  case "$1" in
  --engines) engines=$2; shift 2 ;;
  --seconds) seconds=$2; shift 2 ;;
  --http-threads) http_threads=$2; shift 2 ;;
  --pool) pool=$2; shift 2 ;;
  --wrk-threads) wrk_threads=$2; shift 2 ;;
  --connections) connections=$2; shift 2 ;;
  --scale) scale=$2; shift 2 ;;
  --keep) keep=1; shift ;;
  --baseline) baseline=$2; shift 2 ;;
  --scenarios) only=$2; shift 2 ;;
  -h | --help) sed -n '2,29p' "$0"; exit 0 ;;
  *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
scenarios="personas_list channels_list projects_list project_get persona_update"
[ -n "${only:-}" ] && scenarios=$only
read_scenarios="personas_list channels_list projects_list project_get"

say() { echo "bench: $*" >&2; }

# ---- what it needs -------------------------------------------------------------
scripts/install-deps.sh test
tools=()
command -v wrk >/dev/null || tools+=(wrk)
command -v sqlite3 >/dev/null || tools+=(sqlite3)
if [ ${#tools[@]} -gt 0 ]; then
  say "installing ${tools[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${tools[@]}" >/dev/null \
    || { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${tools[@]}" >/dev/null; }
fi
pgbin=""
for v in 17 16 15 14 13; do
  if [ -x "/usr/lib/postgresql/$v/bin/pgbench" ]; then pgbin=/usr/lib/postgresql/$v/bin; break; fi
done
[ -n "$pgbin" ] || { say "no pgbench found (apt-get install postgresql)"; exit 1; }

say "building (Release) in build-bench"
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DPSTUDIO_BENCH=ON \
  -DBUILD_TESTING=OFF >/dev/null
cmake --build build-bench -j2 --target pstudio bench_gen bench_ceiling bench_openloop >/dev/null
bin=$root/build-bench
server_bin=$bin

work=$(mktemp -d "${TMPDIR:-/tmp}/pstudio-bench.XXXXXX")
chmod 755 "$work"
server_pid=""
pg_dir=""
base_bin=""
if [ -n "$baseline" ]; then
  base_rev=$(git rev-parse --short "$baseline")
  say "building the baseline $baseline ($base_rev, Release) in $work/base"
  git worktree add -q --detach "$work/base" "$baseline"
  cmake -S "$work/base" -B "$work/base/build" -DCMAKE_BUILD_TYPE=Release -DPSTUDIO_BENCH=OFF \
    -DBUILD_TESTING=OFF >/dev/null
  cmake --build "$work/base/build" -j2 --target pstudio >/dev/null
  base_bin=$work/base/build
  # The last migration the baseline knows: it refuses a database that is
  # further on (see hide_migrations).
  base_schema=$(ls "$work/base/src/db/migrations/sqlite" | sed -n 's/^\([0-9]*\)_.*/\1/p' | sort -n | tail -1)
  base_schema=$((10#$base_schema))
fi
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ -n "$baseline" ]; then git -C "$root" worktree remove --force "$work/base" 2>/dev/null || true; fi
  if [ -n "$pg_dir" ]; then "$root/scripts/pg-temp.sh" stop "$pg_dir" || true; fi
  if [ "$keep" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# ---- measuring ----------------------------------------------------------------------
# CPU time in clock ticks: of one process (all its threads), of a set, of the machine.
ticks_of() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
ticks_sum() { local t=0 p; for p in "$@"; do t=$((t + $(ticks_of "$p"))); done; echo $t; }
machine_busy() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
hz=$(getconf CLK_TCK)

# Keeps the highest VmRSS of the server in $work/rss_max (KB) while it runs.
rss_sampler() {
  local pid=$1 max=0 r
  while kill -0 "$pid" 2>/dev/null; do
    r=$(awk '/^VmRSS/{print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    if [ "${r:-0}" -gt "$max" ]; then max=$r; echo "$max" >"$work/rss_max"; fi
    sleep 0.2
  done
}

# field NAME LINE: the value of NAME=value in a RESULT line.
field() { sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p" <<<"$2"; }
# The open-loop phase: the scenario offered half the closed loop's 2xx/s
# (at least 1/s) for the same time. Prints bench_openloop's RESULT line.
open_loop() {
  local s=$1 rate=$2
  "$bin/bench/bench_openloop" --port "$port" --scenario "$s" --rate "$rate" \
    --seconds "$seconds" --connections "$connections"
}
half_rate() { awk -v r="$1" 'BEGIN { r = r / 2; printf "%.1f", r < 1 ? 1 : r }'; }
# Successful (2xx) requests per second of a wrk RESULT line.
ok_rps() {
  awk -v n="$(field requests "$1")" -v e="$(field non2xx "$1")" -v t="$(field seconds "$1")" \
    'BEGIN { printf "%.1f", (n - e) / t }'
}

pg_url=""
pg_psql() { "$pgbin/psql" -X -q -At "$pg_url" -c "$1"; }

# The statements the database ran since the last reset, per request: how
# often, the mean execution time, how many executions were planned afresh
# and the mean planning time, and the start of the text.
pg_statements() {
  local per=$1
  pg_psql "SELECT to_char(calls / $per::numeric, 'FM990.00') || ' x ' ||
                  to_char(mean_exec_time, 'FM990.000') || ' ms, planned ' ||
                  to_char(100.0 * plans / calls, 'FM990') || ' % at ' ||
                  to_char(mean_plan_time, 'FM990.000') || ' ms  ' ||
                  left(regexp_replace(query, '\s+', ' ', 'g'), 150)
             FROM pg_stat_statements
            WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND query NOT LIKE '%pg_stat_statements%' AND calls >= 0.5 * $per
              AND query NOT IN ('BEGIN', 'COMMIT')
            ORDER BY calls DESC, query"
}
pg_statement_count() {
  local per=$1
  pg_psql "SELECT to_char(coalesce(sum(calls), 0) / $per::numeric, 'FM990.00')
             FROM pg_stat_statements
            WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND query NOT LIKE '%pg_stat_statements%' AND calls >= 0.5 * $per
              AND query NOT IN ('BEGIN', 'COMMIT')"
}
# The statements themselves, one per line and sorted, with every parameter,
# every string and number constant (the server's prepared texts keep
# theirs, pgbench's are replaced) and the ceiling's gen_random_uuid() (where
# the server binds an id) written "$": the API's and the ceiling's lists
# must be equal.
pg_statement_texts() {
  local per=$1
  pg_psql "SELECT regexp_replace(regexp_replace(regexp_replace(regexp_replace(
                   query, '\s+', ' ', 'g'), '[$][0-9]+', '$', 'g'),
                   'gen_random_uuid\(\)', '$', 'g'), '''[^'']*''|\m[0-9]+\M', '$', 'g')
             FROM pg_stat_statements
            WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND query NOT LIKE '%pg_stat_statements%' AND calls >= 0.5 * $per
              AND query NOT IN ('BEGIN', 'COMMIT')
            ORDER BY 1"
}

start_server() {
  local engine=$1 url=$2
  port=$(free_port)
  PSTUDIO_DATABASE_URL=$url PSTUDIO_PORT=$port PSTUDIO_BIND=127.0.0.1 \
    PSTUDIO_HTTP_THREADS=$http_threads PSTUDIO_DB_POOL_SIZE=$pool PSTUDIO_DATA_DIR=$work/data \
    PSTUDIO_MAX_CONNECTIONS_PER_IP=0 "$server_bin/pstudio" serve 2>>"$work/$engine/server.log" &
  server_pid=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { say "the server did not start"; cat "$work/$engine/server.log" >&2; exit 1; }
  echo 0 >"$work/rss_max"
  rss_sampler "$server_pid" &
}

# The memory figures are this build's: the highest over its servers' runs
# (a --baseline run restarts it once per scenario).
hwm=0
rss_max=0
stop_server() {
  local h r
  h=$(awk '/^VmHWM/{print $2}' "/proc/$server_pid/status")
  kill "$server_pid"
  wait "$server_pid" || true
  server_pid=""
  r=$(cat "$work/rss_max")
  if [ "$server_bin" = "$bin" ]; then
    [ "$h" -gt "$hwm" ] && hwm=$h
    [ "$r" -gt "$rss_max" ] && rss_max=$r
  fi
  return 0
}

# SQL on the benchmark's database, either engine.
db_sql() {
  local engine=$1 url=$2
  if [ "$engine" = postgres ]; then "$pgbin/psql" -X -q -At "$url" -c "$3"; else sqlite3 "${url#sqlite://}" "$3"; fi
}

# A server refuses a database whose schema is further on than the migrations
# it knows. While the baseline serves, the rows of the migrations it does not
# know are moved aside, and put back after. That is sound only while those
# migrations add what an older server never reads (a column it does not
# select, a trigger, a table), which is how every migration is written.
hide_migrations() {
  db_sql "$1" "$2" "CREATE TABLE bench_hidden_migrations AS SELECT * FROM schema_migrations
                    WHERE version > $base_schema;
                  DELETE FROM schema_migrations WHERE version > $base_schema;"
}
show_migrations() {
  db_sql "$1" "$2" "INSERT INTO schema_migrations SELECT * FROM bench_hidden_migrations;
                  DROP TABLE bench_hidden_migrations;"
}

# The same scenario through the baseline's server, on the same database,
# right after this build's run of it; then this build's server again.
measure_baseline() {
  local engine=$1 url=$2 s=$3 api=$4 rate=$5 out base
  stop_server
  server_bin=$base_bin
  hide_migrations "$engine" "$url"
  start_server "$engine" "$url"
  wrk -t"$wrk_threads" -c"$connections" -d"${warmup}s" -s bench/load.lua "http://127.0.0.1:$port" \
    -- "$s" "$wrk_threads" >/dev/null
  local s0 s1
  s0=$(ticks_of "$server_pid")
  out=$(wrk -t"$wrk_threads" -c"$connections" -d"${seconds}s" -s bench/load.lua \
    "http://127.0.0.1:$port" -- "$s" "$wrk_threads")
  s1=$(ticks_of "$server_pid")
  base=$(grep '^RESULT' <<<"$out")
  base="$base server_ms=$(awk -v t=$((s1 - s0)) -v n="$(field requests " $base")" -v hz="$hz" \
    'BEGIN { printf "%.3f", 1000 * t / hz / n }')"
  echo "$s $(open_loop "$s" "$rate")" >>"$work/$engine/baseline_open.txt"
  stop_server
  show_migrations "$engine" "$url"
  server_bin=$bin
  echo "$s $api | $base" >>"$work/$engine/baseline.txt"
  start_server "$engine" "$url"
}

# ---- one engine ---------------------------------------------------------------------
run_engine() {
  local engine=$1 url dir=$work/$1
  mkdir -p "$dir"
  if [ "$engine" = postgres ]; then
    pg_dir=$work/pg
    local admin
    admin=$("$root/scripts/pg-temp.sh" start "$pg_dir")
    pg_url=$admin
    pg_psql "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
    runuser_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
    runuser_pg "$pgbin/pg_ctl" -D "$pg_dir/data" -w -m fast restart >/dev/null
    pg_psql "ALTER SYSTEM SET pg_stat_statements.track_planning = on"
    pg_psql "SELECT pg_reload_conf()" >/dev/null
    pg_psql "CREATE DATABASE bench"
    url=${admin%/*}/bench
    pg_url=$url
    pg_psql "CREATE EXTENSION pg_stat_statements"
  else
    url=sqlite://$dir/bench.db
  fi

  say "$engine: generating the data set"
  "$bin/bench/bench_gen" --url "$url" --out "$dir" --scale "$scale" 2>"$dir/gen.log" \
    || { cat "$dir/gen.log" >&2; exit 1; }
  grep -v '"level"' "$dir/gen.log" >&2
  # shellcheck disable=SC1091
  . "$dir/bench.env"
  export BENCH_TOKEN BENCH_DIR=$dir
  local postmaster=""
  [ "$engine" = postgres ] && postmaster=$(head -1 "$pg_dir/data/postmaster.pid")

  start_server "$engine" "$url"
  say "$engine: server pid $server_pid on port $port ($http_threads HTTP threads, $pool connections)"

  local defs=(-D "token_hash=$BENCH_TOKEN_HASH" -D "user_id=$BENCH_USER_ID" -D ready=0
              -D zero=0 -D limit=20 -D max_uuid=ffffffff-ffff-ffff-ffff-ffffffffffff
              -D reason=bench -D "snapshot=$(cat "$dir/snapshot.json")")
  : >"$dir/results.txt"
  : >"$dir/statements.txt"
  : >"$dir/open.txt"
  local s
  for s in $scenarios; do
    say "$engine: $s"
    wrk -t"$wrk_threads" -c"$connections" -d"${warmup}s" -s bench/load.lua "http://127.0.0.1:$port" \
      -- "$s" "$wrk_threads" >/dev/null
    [ "$engine" = postgres ] && pg_psql "SELECT pg_stat_statements_reset()" >/dev/null
    local pg_pids="" s0 p0 m0 s1 p1 m1
    [ -n "$postmaster" ] && pg_pids=$(pgrep -P "$postmaster" | tr '\n' ' ')
    s0=$(ticks_of "$server_pid"); p0=$(ticks_sum $pg_pids); m0=$(machine_busy); t0=$(date +%s%N)
    local api out
    # `times` reports the CPU that wrk (the subshell's child) used.
    out=$(wrk -t"$wrk_threads" -c"$connections" -d"${seconds}s" -s bench/load.lua \
      "http://127.0.0.1:$port" -- "$s" "$wrk_threads"; times)
    s1=$(ticks_of "$server_pid"); p1=$(ticks_sum $pg_pids); m1=$(machine_busy); t1=$(date +%s%N)
    api=$(grep '^RESULT' <<<"$out")
    local wrk_cpu
    wrk_cpu=$(tail -1 <<<"$out" | awk '{ split($1, u, /[ms]/); split($2, y, /[ms]/); print u[1]*60 + u[2] + y[1]*60 + y[2] }')
    local reqs cpu
    reqs=$(field requests "$api")
    # CPU milliseconds per request: the server process, the PostgreSQL
    # processes, wrk, and the rest (the kernel's work not charged to a
    # process, and any other program on the machine: a large share means
    # the run was disturbed), with the share of the cores that was busy.
    cpu=$(awk -v s=$((s1 - s0)) -v p=$((p1 - p0)) -v m=$((m1 - m0)) -v w="$wrk_cpu" -v n="$reqs" \
      -v hz="$hz" -v wall=$(((t1 - t0) / 1000000)) -v ncpu="$(nproc)" 'BEGIN {
        printf "server=%.3f db=%.3f wrk=%.3f rest=%.3f busy=%.0f%%", 1000*s/hz/n, 1000*p/hz/n,
               1000*w/n, (1000*(m-s-p)/hz - 1000*w)/n, 100*m/hz/(wall/1000*ncpu) }')
    local stmts_api="" stmts_ceil="" ceil
    if [ "$engine" = postgres ]; then
      stmts_api=$(pg_statement_count "$reqs")
      pg_statement_texts "$reqs" >"$dir/$s.api.sql.txt"
      { echo "== $s: API, per request ($reqs requests)"; pg_statements "$reqs"; } >>"$dir/statements.txt"
      pg_psql "SELECT pg_stat_statements_reset()" >/dev/null
      local out
      out=$("$pgbin/pgbench" -n -M prepared -c "$pool" -j 2 -T "$seconds" -f "bench/sql/$s.sql" \
        "${defs[@]}" -D "now=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)" "$url" 2>&1) \
        || { echo "$out" >&2; exit 1; }
      local tx tps failed
      tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
      tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$out")
      failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$out")
      ceil="RESULT tps=$tps transactions=$tx failed=${failed:-0}"
      stmts_ceil=$(pg_statement_count "$tx")
      pg_statement_texts "$tx" >"$dir/$s.ceiling.sql.txt"
      if diff -u "$dir/$s.api.sql.txt" "$dir/$s.ceiling.sql.txt" >"$dir/$s.sql.diff"; then
        stmts_ceil="$stmts_ceil, same SQL"
      else
        stmts_ceil="$stmts_ceil, SQL DIFFERS"
        say "$s: the ceiling does not run the server's statements; see $dir/$s.sql.diff"
        { echo "== $s: API (-) and ceiling (+) statements differ"; cat "$dir/$s.sql.diff"; echo; } \
          >>"$dir/statements.txt"
      fi
      { echo "== $s: ceiling (pgbench), per transaction ($tx transactions)"; pg_statements "$tx"; echo; } \
        >>"$dir/statements.txt"
      # The same scripts from blocking threads, one connection each, as the
      # server's handlers run them: how far the threading model alone is
      # from pgbench's (docs/benchmarks.md).
      local threads_tps
      threads_tps=$("$bin/bench/bench_ceiling" --url "$url" --threads "$pool" --seconds "$seconds" \
        -f "bench/sql/$s.sql" "${defs[@]}" -D "now=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)" \
        | sed -n 's/^RESULT tps=\([0-9.]*\).*/\1/p')
      ceil="$ceil threads_tps=$threads_tps"
    else
      ceil=$("$bin/bench/bench_ceiling" --db "$dir/bench.db" --threads "$pool" \
        --seconds "$seconds" -f "bench/sql/$s.sql" "${defs[@]}" \
        -D "now=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)" | grep '^RESULT')
    fi
    echo "$s $api | $ceil | $cpu stmts_api=$stmts_api stmts_ceiling=${stmts_ceil// /_}" >>"$dir/results.txt"
    local rate
    rate=$(half_rate "$(ok_rps " $api")")
    say "$engine: $s open loop at $rate/s"
    echo "$s $(open_loop "$s" "$rate")" >>"$dir/open.txt"
    [ -n "$baseline" ] && measure_baseline "$engine" "$url" "$s" "$api" "$rate"
  done
  stop_server
  echo "rss_max_kb=$rss_max hwm_kb=$hwm" >>"$dir/results.txt"
  hwm=0
  rss_max=0
  if [ "$engine" = postgres ]; then
    "$root/scripts/pg-temp.sh" stop "$pg_dir"
    pg_dir=""
  fi
}

# ---- the report ---------------------------------------------------------------------
# Requests of an open-loop RESULT that did not succeed: non-2xx, socket
# errors and those unanswered at the end.
open_failed() {
  [ -n "$(field offered "$1")" ] || return 0
  echo $(($(field non2xx "$1") + $(field sockerr "$1") + $(field unfinished "$1")))
}
# The open-loop cells of the scenario table, from "NAME RESULT …".
open_cells() {
  local o=" ${1#* }"
  if [ -z "$(field offered "$o")" ]; then echo "- | - | - | - | -"; return; fi
  printf '%.0f | %.1f | %.1f | %.1f | %s' "$(field offered "$o")" "$(field p50_ms "$o")" \
    "$(field p99_ms "$o")" "$(field p999_ms "$o")" "$(open_failed "$o")"
}

report() {
  local engine=$1 dir=$work/$1 line s api ceil
  local rps p50 p99 non2xx tps ratio target
  echo
  echo "### $engine ($http_threads HTTP threads, $pool database connections; wrk -t$wrk_threads -c$connections -d${seconds}s; open loop at half the 2xx/s, up to $connections connections, ${seconds}s)"
  echo
  local open_head="open-loop offered/s | open p50 ms | open p99 ms | open p99.9 ms | open failed |"
  local open_rule="---:|---:|---:|---:|---:|"
  if [ "$engine" = postgres ]; then
    echo "| scenario | API 2xx/s | wrk p50 ms | wrk p99 ms | non-2xx | $open_head ceiling tx/s | API / ceiling | blocking threads tx/s | CPU ms per request | statements per request (API, ceiling), same SQL? |"
    echo "|---|---:|---:|---:|---:|$open_rule---:|---:|---:|---|---|"
  else
    echo "| scenario | API 2xx/s | wrk p50 ms | wrk p99 ms | non-2xx | $open_head ceiling tx/s | API / ceiling | CPU ms per request | statements per request (API, ceiling), same SQL? |"
    echo "|---|---:|---:|---:|---:|$open_rule---:|---:|---|---|"
  fi
  while read -r line; do
    case "$line" in rss_max_kb=*) continue ;; esac
    s=${line%% *}
    api=${line#* }; api=${api%%|*}
    ceil=${line#*| }; ceil=${ceil%%|*}
    rps=$(ok_rps " $api"); p50=$(field p50_ms " $api"); p99=$(field p99_ms " $api")
    non2xx=$(field non2xx " $api")
    tps=$(field tps " $ceil")
    ratio=$(awk -v a="$rps" -v c="$tps" 'BEGIN { if (c > 0) printf "%.0f %%", 100 * a / c; else print "n/a" }')
    local cpu stm
    cpu=$(sed -n 's/.*server=\([^ ]*\) db=\([^ ]*\) wrk=\([^ ]*\) rest=\([^ ]*\) busy=\([^ ]*\).*/server \1, db \2, wrk \3, rest \4 (cores \5 busy)/p' <<<"$line")
    stm=$(sed -n 's/.*stmts_api=\([^ ]*\) stmts_ceiling=\([^ ]*\).*/\1, \2/p' <<<"$line" | tr _ ' ')
    [ "$engine" = sqlite ] && { cpu=${cpu/, db 0.000/}; stm="-"; }
    local open
    open=$(open_cells "$(grep "^$s " "$dir/open.txt" || true)")
    if [ "$engine" = postgres ]; then
      printf '| %s | %.0f | %.1f | %.1f | %s | %s | %.0f | %s | %.0f | %s | %s |\n' "$s" "$rps" "$p50" "$p99" \
        "$non2xx" "$open" "$tps" "$ratio" "$(field threads_tps " $ceil")" "$cpu" "$stm"
    else
      printf '| %s | %.0f | %.1f | %.1f | %s | %s | %.0f | %s | %s | %s |\n' "$s" "$rps" "$p50" "$p99" \
        "$non2xx" "$open" "$tps" "$ratio" "$cpu" "$stm"
    fi
  done <"$dir/results.txt"
  if [ -f "$dir/baseline.txt" ]; then
    echo
    echo "Against the baseline $baseline ($base_rev), the same scenarios on the same database, each right after this build's run:"
    echo
    echo "| scenario | this build 2xx/s | baseline 2xx/s | this / baseline | wrk p99 ms (this, baseline) | open-loop offered/s | open p99 ms (this, baseline) | open failed (this, baseline) | server CPU ms per request (this, baseline) |"
    echo "|---|---:|---:|---:|---|---:|---|---|---|"
    local b o bo
    while read -r line; do
      s=${line%% *}
      api=${line#* }; api=${api%%|*}
      b=${line#*| }
      o=" $(grep "^$s " "$dir/open.txt" | cut -d' ' -f2- || true)"
      bo=" $(grep "^$s " "$dir/baseline_open.txt" | cut -d' ' -f2- || true)"
      printf '| %s | %.0f | %.0f | %s | %s, %s | %s | %s, %s | %s, %s | %s, %s |\n' "$s" "$(ok_rps " $api")" "$(ok_rps " $b")" \
        "$(awk -v a="$(ok_rps " $api")" -v c="$(ok_rps " $b")" 'BEGIN { if (c > 0) printf "%.2f", a / c; else print "n/a" }')" \
        "$(field p99_ms " $api")" "$(field p99_ms " $b")" \
        "$(field offered "$o")" "$(field p99_ms "$o")" "$(field p99_ms "$bo")" \
        "$(open_failed "$o")" "$(open_failed "$bo")" \
        "$(grep "^$s " "$dir/results.txt" | sed -n 's/.*server=\([^ ]*\).*/\1/p')" "$(field server_ms " $b")"
    done <"$dir/baseline.txt"
  fi
  line=$(grep '^rss_max_kb=' "$dir/results.txt")
  local rss hwm
  rss=$(sed -n 's/rss_max_kb=\([0-9]*\).*/\1/p' <<<"$line")
  hwm=$(sed -n 's/.*hwm_kb=\([0-9]*\).*/\1/p' <<<"$line")
  echo
  printf 'Server resident memory: highest sampled VmRSS %.1f MB, peak (VmHWM) %.1f MB; target < 32 MB.\n' \
    "$(awk -v k="$rss" 'BEGIN{print k/1024}')" "$(awk -v k="$hwm" 'BEGIN{print k/1024}')"
  if [ "$engine" = postgres ]; then
    echo
    echo "Targets (PostgreSQL): every read scenario at >= 60 % of its ceiling; open-loop p99 at half the"
    echo "closed loop's 2xx/s < 10 ms for a read scenario, < 25 ms for persona_update, with no request failed; RSS < 32 MB."
    local o failed
    while read -r line; do
      case "$line" in rss_max_kb=*) continue ;; esac
      s=${line%% *}
      api=${line#* }; api=${api%%|*}; ceil=${line#*| }; ceil=${ceil%%|*}
      rps=$(ok_rps " $api"); tps=$(field tps " $ceil")
      o=" $(grep "^$s " "$dir/open.txt" | cut -d' ' -f2- || true)"
      p99=$(field p99_ms "$o"); failed=$(open_failed "$o")
      target=$(awk -v a="$rps" -v c="$tps" -v p="${p99:-1e9}" -v f="${failed:-1}" -v read="$([[ " $read_scenarios " == *" $s "* ]] && echo 1 || echo 0)" 'BEGIN {
        r = (c > 0) ? a / c : 0
        out = ""
        if (read) out = out (r >= 0.6 ? "ratio met" : "ratio MISSED") "; "
        out = out ((p < (read ? 10 : 25) && f == 0) ? "open-loop p99 met" : "open-loop p99 MISSED")
        print out }')
      echo "- $s: $target (open-loop p99 ${p99:-?} ms, limit $([[ " $read_scenarios " == *" $s "* ]] && echo 10 || echo 25) ms)"
    done <"$dir/results.txt"
    echo "- memory: $(awk -v k="$hwm" 'BEGIN { print (k < 32768) ? "met" : "MISSED" }')"
  fi
}

say "work directory $work"
{
  echo "# Persona Studio API benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/{printf "%.0f GB", $2/1048576}' /proc/meminfo) memory; $(. /etc/os-release; echo "$PRETTY_NAME"); PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}'); SQLite $(awk -F'"' '/define SQLITE_VERSION /{print $2}' /usr/include/sqlite3.h); $(wrk --version 2>&1 | head -1 | awk '{print $1, $2}'); pstudio $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo '+changes')"
  echo "Load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "Command: bench/run.sh --engines \"$engines\" --seconds $seconds --http-threads $http_threads --pool $pool --wrk-threads $wrk_threads --connections $connections --scale $scale${baseline:+ --baseline $baseline}"
} >"$work/report.md"
for engine in $engines; do
  run_engine "$engine"
  report "$engine" >>"$work/report.md"
done
echo >&2
cat "$work/report.md"
if [ "$keep" = 1 ]; then
  for engine in $engines; do
    [ -f "$work/$engine/statements.txt" ] && say "statements per request: $work/$engine/statements.txt"
  done
fi
