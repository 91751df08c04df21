#include "s3_server.h"

#include "testlib.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int s3_server_start(s3_server *s, const char *bucket)
{
    memset(s, 0, sizeof(*s));
    s->pid = -1;
    s->stdin_fd = -1;
    const char *mods = getenv("PSTUDIO_TEST_S3_MODULES");
    if (mods == NULL) {
        fprintf(stderr, "PSTUDIO_TEST_S3_MODULES is not set: run through tests/s3/run.sh\n");
        return -1;
    }
    test_tmpdir(s->dir, sizeof(s->dir));
    char script[1024], data[600];
    snprintf(script, sizeof(script), "%s/tests/s3/server.js", PSTUDIO_SOURCE_DIR);
    snprintf(data, sizeof(data), "%s/objects", s->dir);
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0)
        return -1;
    s->pid = fork();
    if (s->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execlp("node", "node", script, mods, data, bucket, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    s->stdin_fd = in[1];
    char line[64] = "";
    size_t n = 0;
    while (n + 1 < sizeof(line)) {
        ssize_t r = read(out[0], line + n, 1);
        if (r <= 0 || line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    close(out[0]);
    if (sscanf(line, "port %d", &s->port) != 1) {
        fprintf(stderr, "the S3 server did not start: '%s'\n", line);
        return -1;
    }
    return 0;
}

void s3_server_stop(s3_server *s)
{
    if (s->pid <= 0)
        return;
    close(s->stdin_fd);
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
    s->pid = -1;
}
