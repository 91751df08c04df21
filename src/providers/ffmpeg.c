#include "providers/ffmpeg.h"

#include "base/timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define FFMPEG__ARGS_MAX 48
#define FFMPEG__TAIL     400 /* the bytes of stderr kept for the reason */

/* Keeps the last bytes of the child's stderr in tail. */
static void ffmpeg__keep(char *tail, size_t *n, const char *data, size_t len)
{
    if (len >= FFMPEG__TAIL) {
        memcpy(tail, data + len - FFMPEG__TAIL, FFMPEG__TAIL);
        *n = FFMPEG__TAIL;
        return;
    }
    if (*n + len > FFMPEG__TAIL) {
        size_t drop = *n + len - FFMPEG__TAIL;
        memmove(tail, tail + drop, *n - drop);
        *n -= drop;
    }
    memcpy(tail + *n, data, len);
    *n += len;
}

/* The tail as one line of text. */
static const char *ffmpeg__reason(char *tail, size_t n)
{
    tail[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (tail[i] == '\n' || tail[i] == '\r' || (unsigned char)tail[i] < 0x20)
            tail[i] = ' ';
    while (n > 0 && tail[n - 1] == ' ')
        tail[--n] = '\0';
    return n ? tail : "(no output)";
}

int ffmpeg_run(const char *program, const char *const *args, int timeout_ms, error *err)
{
    const char *argv[FFMPEG__ARGS_MAX + 2];
    size_t argc = 0;
    argv[argc++] = program;
    for (size_t i = 0; args[i] != NULL; i++) {
        if (argc > FFMPEG__ARGS_MAX)
            return error_set(err, ERR_INTERNAL, NULL, "too many ffmpeg arguments");
        argv[argc++] = args[i];
    }
    argv[argc] = NULL;

    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0)
        return error_set(err, ERR_UNAVAILABLE, NULL, "ffmpeg: no pipe: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
    pid_t pid;
    int rc = posix_spawnp(&pid, program, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (rc != 0) {
        close(pipefd[0]);
        return error_set(err, ERR_CONFIG, "PSTUDIO_FFMPEG",
                         "cannot run %s: %s (install the Debian package ffmpeg, or set "
                         "PSTUDIO_FFMPEG to its path)",
                         program, strerror(rc));
    }

    char tail[FFMPEG__TAIL + 1];
    size_t ntail = 0;
    int64_t deadline = time_mono_usec() + (int64_t)timeout_ms * 1000;
    bool timed_out = false, open = true;
    while (open) {
        int64_t left_ms = (deadline - time_mono_usec()) / 1000;
        if (left_ms <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
        int pr = poll(&p, 1, left_ms > 1000 ? 1000 : (int)left_ms);
        if (pr < 0 && errno != EINTR)
            break;
        if (pr <= 0)
            continue;
        char chunk[4096];
        ssize_t got = read(pipefd[0], chunk, sizeof(chunk));
        if (got > 0)
            ffmpeg__keep(tail, &ntail, chunk, (size_t)got);
        else if (got == 0 || errno != EINTR)
            open = false;
    }
    close(pipefd[0]);
    /* stderr closed: the child is exiting; or it timed out and is killed. */
    if (timed_out)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (timed_out)
        return error_set(err, ERR_UNAVAILABLE, NULL, "ffmpeg did not finish within %d ms",
                         timeout_ms);
    if (WIFSIGNALED(status))
        return error_set(err, ERR_UNAVAILABLE, NULL, "ffmpeg died of signal %d: %s",
                         WTERMSIG(status), ffmpeg__reason(tail, ntail));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return error_set(err, ERR_UNAVAILABLE, NULL, "ffmpeg exited with status %d: %s",
                         WIFEXITED(status) ? WEXITSTATUS(status) : -1, ffmpeg__reason(tail, ntail));
    return 0;
}
