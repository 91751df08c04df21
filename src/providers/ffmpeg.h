/*
 * ffmpeg: runs the ffmpeg program (Debian package ffmpeg) as a child
 * process, never through a shell: argv is passed as it is, stdin is
 * /dev/null, and stderr is kept (its last lines) to say why a run failed.
 * A run that outlives its timeout is killed (SIGKILL) and reaped, and the
 * child dies with the thread that started it (PR_SET_PDEATHSIG), so a
 * worker killed with -9 leaves no ffmpeg running.
 */
#ifndef PS_PROVIDERS_FFMPEG_H
#define PS_PROVIDERS_FFMPEG_H

#include "base/error.h"

#include <stdint.h>

/**
 * Runs program with args (NULL-terminated, without argv[0]) and waits at
 * most timeout_ms. 0 when it exited 0. ERR_CONFIG (field "PSTUDIO_FFMPEG")
 * when the program cannot be started; ERR_UNAVAILABLE when it timed out,
 * died of a signal or exited non-zero, with the end of its stderr.
 */
int ffmpeg_run(const char *program, const char *const *args, int timeout_ms, error *err);

/**
 * Called with each out_time_us of ffmpeg's `-progress pipe:1` output (the
 * microseconds of output written so far). A non-zero return stops the run:
 * the child is killed and ffmpeg_run_progress fails with ERR_CONFLICT.
 */
typedef int (*ffmpeg_progress_fn)(int64_t out_time_us, void *ctx);

/**
 * ffmpeg_run for a long run: args may be as many as needed and must ask
 * for `-progress pipe:1` (the child's stdout is read line by line, each
 * `out_time_us=` line handed to fn; "N/A" and malformed values are
 * skipped, a line past 4 KiB is dropped whole). Errors as ffmpeg_run's,
 * plus ERR_CONFLICT when fn asked to stop.
 */
int ffmpeg_run_progress(const char *program, const char *const *args, int timeout_ms,
                        ffmpeg_progress_fn fn, void *ctx, error *err);

#endif
