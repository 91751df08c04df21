/*
 * ffmpeg: runs the ffmpeg program (Debian package ffmpeg) as a child
 * process, never through a shell: argv is passed as it is, stdin is
 * /dev/null, and stderr is kept (its last lines) to say why a run failed.
 * A run that outlives its timeout is killed (SIGKILL) and reaped.
 */
#ifndef PS_PROVIDERS_FFMPEG_H
#define PS_PROVIDERS_FFMPEG_H

#include "base/error.h"

/**
 * Runs program with args (NULL-terminated, without argv[0]) and waits at
 * most timeout_ms. 0 when it exited 0. ERR_CONFIG (field "PSTUDIO_FFMPEG")
 * when the program cannot be started; ERR_UNAVAILABLE when it timed out,
 * died of a signal or exited non-zero, with the end of its stderr.
 */
int ffmpeg_run(const char *program, const char *const *args, int timeout_ms, error *err);

#endif
