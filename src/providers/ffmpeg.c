#include "providers/ffmpeg.h"

#include "base/timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define FFMPEG__ARGS_MAX 48
#define FFMPEG__TAIL     400  /* the bytes of stderr kept for the reason */
#define FFMPEG__LINE     4096 /* the longest progress line read */

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

/* The progress side of a run: stdout split into lines. */
typedef struct ffmpeg__progress {
    ffmpeg_progress_fn fn;
    void *ctx;
    char line[FFMPEG__LINE];
    size_t n;
    bool overlong; /* the current line passed FFMPEG__LINE: dropped */
    bool stop;     /* fn asked to stop */
} ffmpeg__progress;

static void ffmpeg__line(ffmpeg__progress *pg)
{
    static const char key[] = "out_time_us=";
    pg->line[pg->n] = '\0';
    if (pg->overlong || strncmp(pg->line, key, sizeof(key) - 1) != 0)
        return;
    const char *v = pg->line + sizeof(key) - 1;
    char *end;
    errno = 0;
    long long us = strtoll(v, &end, 10);
    if (end == v || (*end != '\0' && *end != '\r') || errno != 0 || us < 0)
        return; /* "N/A" before the first frame, or garbage */
    if (pg->fn(us, pg->ctx) != 0)
        pg->stop = true;
}

static void ffmpeg__feed(ffmpeg__progress *pg, const char *data, size_t len)
{
    for (size_t i = 0; i < len && !pg->stop; i++) {
        if (data[i] == '\n') {
            ffmpeg__line(pg);
            pg->n = 0;
            pg->overlong = false;
        } else if (pg->n + 1 < sizeof(pg->line)) {
            pg->line[pg->n++] = data[i];
        } else {
            pg->overlong = true;
        }
    }
}

/* Runs the child with stdin /dev/null, stderr into the tail and stdout
 * into pg (or /dev/null without one). */
static int ffmpeg__run(const char *program, const char *const *args, int timeout_ms,
                       ffmpeg__progress *pg, error *err)
{
    size_t nargs = 0;
    while (args[nargs] != NULL)
        nargs++;
    if (pg == NULL && nargs > FFMPEG__ARGS_MAX)
        return error_set(err, ERR_INTERNAL, NULL, "too many ffmpeg arguments");
    const char **argv = malloc((nargs + 2) * sizeof(*argv));
    if (argv == NULL)
        return error_set(err, ERR_UNAVAILABLE, NULL, "ffmpeg: out of memory");
    argv[0] = program;
    memcpy(argv + 1, args, nargs * sizeof(*argv));
    argv[nargs + 1] = NULL;

    int errpipe[2], outpipe[2] = {-1, -1};
    if (pipe2(errpipe, O_CLOEXEC) != 0) {
        free(argv);
        return error_set(err, ERR_UNAVAILABLE, NULL, "ffmpeg: no pipe: %s", strerror(errno));
    }
    if (pg != NULL && pipe2(outpipe, O_CLOEXEC) != 0) {
        close(errpipe[0]);
        close(errpipe[1]);
        free(argv);
        return error_set(err, ERR_UNAVAILABLE, NULL, "ffmpeg: no pipe: %s", strerror(errno));
    }
    /* The exec's outcome: nothing when it worked (the pipe closes on exec),
     * its errno when it did not. */
    int execpipe[2];
    if (pipe2(execpipe, O_CLOEXEC) != 0) {
        int saved = errno;
        close(errpipe[0]);
        close(errpipe[1]);
        if (outpipe[0] >= 0) {
            close(outpipe[0]);
            close(outpipe[1]);
        }
        free(argv);
        return error_set(err, ERR_UNAVAILABLE, NULL, "ffmpeg: no pipe: %s", strerror(saved));
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* Only async-signal-safe calls until exec. The child dies with the
         * thread that started it, so a worker killed with -9 leaves no
         * encoder running on (ffmpeg ignores a closed progress pipe). */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int nul = open("/dev/null", O_RDWR);
        if (nul < 0 || dup2(nul, 0) < 0 || dup2(pg != NULL ? outpipe[1] : nul, 1) < 0 ||
            dup2(errpipe[1], 2) < 0) {
            int e = errno;
            (void)!write(execpipe[1], &e, sizeof(e));
            _exit(127);
        }
        execvp(program, (char *const *)argv);
        int e = errno;
        (void)!write(execpipe[1], &e, sizeof(e));
        _exit(127);
    }
    int rc = pid < 0 ? errno : 0;
    free(argv);
    close(execpipe[1]);
    close(errpipe[1]);
    if (outpipe[1] >= 0)
        close(outpipe[1]);
    if (pid > 0) {
        int child_errno = 0;
        ssize_t got;
        while ((got = read(execpipe[0], &child_errno, sizeof(child_errno))) < 0 && errno == EINTR)
            ;
        if (got == (ssize_t)sizeof(child_errno)) {
            rc = child_errno;
            while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        }
    }
    close(execpipe[0]);
    if (rc != 0) {
        close(errpipe[0]);
        if (outpipe[0] >= 0)
            close(outpipe[0]);
        return error_set(err, ERR_CONFIG, "PSTUDIO_FFMPEG",
                         "cannot run %s: %s (install the Debian package ffmpeg, or set "
                         "PSTUDIO_FFMPEG to its path)",
                         program, strerror(rc));
    }

    char tail[FFMPEG__TAIL + 1];
    size_t ntail = 0;
    int64_t deadline = time_mono_usec() + (int64_t)timeout_ms * 1000;
    bool timed_out = false;
    struct pollfd p[2] = {{.fd = errpipe[0], .events = POLLIN},
                          {.fd = outpipe[0], .events = POLLIN}};
    int open_fds = pg != NULL ? 2 : 1;
    while (open_fds > 0 && !(pg != NULL && pg->stop)) {
        int64_t left_ms = (deadline - time_mono_usec()) / 1000;
        if (left_ms <= 0) {
            timed_out = true;
            break;
        }
        int pr = poll(p, pg != NULL ? 2 : 1, left_ms > 1000 ? 1000 : (int)left_ms);
        if (pr < 0 && errno != EINTR)
            break;
        if (pr <= 0)
            continue;
        for (int i = 0; i < (pg != NULL ? 2 : 1); i++) {
            if (p[i].fd < 0 || p[i].revents == 0)
                continue;
            char chunk[4096];
            ssize_t got = read(p[i].fd, chunk, sizeof(chunk));
            if (got > 0 && i == 0)
                ffmpeg__keep(tail, &ntail, chunk, (size_t)got);
            else if (got > 0)
                ffmpeg__feed(pg, chunk, (size_t)got);
            else if (got == 0 || errno != EINTR) {
                close(p[i].fd);
                p[i].fd = -1; /* poll skips a negative descriptor */
                open_fds--;
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (p[i].fd >= 0)
            close(p[i].fd);
    bool stopped = pg != NULL && pg->stop;
    /* Both pipes closed: the child is exiting; or it is killed. */
    if (timed_out || stopped || open_fds > 0)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (stopped)
        return error_set(err, ERR_CONFLICT, NULL, "ffmpeg was stopped: its work is not wanted");
    if (timed_out)
        return error_set(err, ERR_UNAVAILABLE, NULL, "ffmpeg did not finish within %d ms",
                         timeout_ms);
    if (WIFSIGNALED(status))
        return error_set(err, ERR_UNAVAILABLE, NULL, "ffmpeg died of signal %d: %s",
                         WTERMSIG(status), ffmpeg__reason(tail, ntail));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        const char *why = ffmpeg__reason(tail, ntail);
        /* ffmpeg says why a write failed in the C library's words: a full
         * disk or a file past the size limit is the disk's fault, not the
         * encoder's (decision 142). */
        static const int full[] = {ENOSPC, EFBIG, EDQUOT};
        for (size_t i = 0; i < sizeof(full) / sizeof(full[0]); i++)
            if (strstr(why, strerror(full[i])) != NULL)
                return error_set(err, ERR_NO_SPACE, NULL,
                                 "the disk is full: ffmpeg could not write its output: %s; free "
                                 "space (or raise the file size limit) and try again",
                                 why);
        return error_set(err, ERR_UNAVAILABLE, NULL, "ffmpeg exited with status %d: %s",
                         WIFEXITED(status) ? WEXITSTATUS(status) : -1, why);
    }
    return 0;
}

int ffmpeg_run(const char *program, const char *const *args, int timeout_ms, error *err)
{
    return ffmpeg__run(program, args, timeout_ms, NULL, err);
}

int ffmpeg_run_progress(const char *program, const char *const *args, int timeout_ms,
                        ffmpeg_progress_fn fn, void *ctx, error *err)
{
    ffmpeg__progress *pg = calloc(1, sizeof(*pg));
    if (pg == NULL)
        return error_set(err, ERR_UNAVAILABLE, NULL, "ffmpeg: out of memory");
    pg->fn = fn;
    pg->ctx = ctx;
    int rc = ffmpeg__run(program, args, timeout_ms, pg, err);
    free(pg);
    return rc;
}
