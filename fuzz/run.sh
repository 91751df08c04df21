#!/usr/bin/env bash
# Runs one libFuzzer target (docs/fuzzing.md), niced on one core:
#   fuzz/run.sh TARGET [RUNS] [SECONDS]
# from the repository root, after building build-fuzz/ with -DPSTUDIO_FUZZ=ON.
# New inputs go to build-fuzz/corpus/TARGET (the committed seeds under
# fuzz/corpus/TARGET are read, never written); a crash, leak or UBSan report
# stops the run and leaves its reproducer in build-fuzz/artifacts/. The
# final statistics (executions, exec/s) are appended to
# build-fuzz/fuzz-stats.tsv, one line a run.
set -euo pipefail
cd "$(dirname "$0")/.."
t=${1:?usage: fuzz/run.sh TARGET [RUNS] [SECONDS]}
runs=${2:-10000000}
secs=${3:-0}
work=build-fuzz/corpus/$t
mkdir -p "$work" build-fuzz/artifacts build-fuzz/logs
log=build-fuzz/logs/$t.$(date -u +%Y%m%dT%H%M%S).log
set +e
nice -n 19 build-fuzz/fuzz/fuzz_"$t" -jobs=1 -workers=1 -runs="$runs" -max_total_time="$secs" \
    -dict=fuzz/"$t".dict -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix=build-fuzz/artifacts/"$t"- "$work" fuzz/corpus/"$t" >"$log" 2>&1
rc=$?
set -e
# With -jobs the job's own output is in fuzz-0.log.
if [ -f fuzz-0.log ]; then
    cat fuzz-0.log >>"$log"
    rm -f fuzz-0.log
fi
execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | tail -1 | awk '{print $2}')
speed=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | tail -1 | awk '{print $2}')
printf '%s\t%s\t%s\t%s\t%s\n' "$t" "${execs:-0}" "${speed:-0}" "$rc" "$log" >>build-fuzz/fuzz-stats.tsv
exit $rc
