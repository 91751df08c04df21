/*
 * s3_server: the S3-protocol test server (tests/s3/server.js, which runs
 * @20minutes/s3rver) as a child process on loopback, for the tests that
 * store media in a bucket. tests/s3/run.sh installs its modules and names
 * them in PSTUDIO_TEST_S3_MODULES. The server stops when its stdin closes,
 * so a test killed mid-run leaves none behind.
 */
#ifndef PS_TESTS_S3_SERVER_H
#define PS_TESTS_S3_SERVER_H

#include <sys/types.h>

typedef struct s3_server {
    pid_t pid;
    int stdin_fd; /* its end of file stops the server */
    int port;
    char dir[512]; /* the objects live under <dir>/objects */
} s3_server;

/** Starts the server with one bucket; 0, or -1 after printing why. */
int s3_server_start(s3_server *s, const char *bucket);
/** Stops it and waits for it (a server never started is left alone). */
void s3_server_stop(s3_server *s);

#endif
