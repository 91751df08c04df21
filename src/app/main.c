/*
 * pstudio: the one binary. It picks the subcommand, loads the configuration
 * for it and hands over; see app.h for the exit-status convention.
 */
#include "app/app.h"
#include "base/log.h"

#include <malloc.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

static void main__usage(FILE *out)
{
    fputs("Usage: pstudio <command> [options]\n"
          "\n"
          "Persona Studio: runs faceless YouTube channels with AI personas.\n"
          "\n"
          "Commands:\n"
          "  serve                 HTTP API, dashboard and in-process workers\n"
          "  worker                job workers and the scheduler only (no HTTP)\n"
          "  migrate               apply the database schema (idempotent)\n"
          "  admin user create     create a user; the password is read from stdin\n"
          "\n"
          "Options:\n"
          "  --help                help for pstudio or for one command\n"
          "  --version             print the version\n"
          "\n",
          out);
    config_print_help(out);
}

typedef struct main__cmd {
    const char *name;
    int (*run)(config *c);
} main__cmd;

static const main__cmd main__cmds[] = {
    {"serve", cmd_serve},
    {"migrate", cmd_migrate},
    {"admin", cmd_admin},
    {"worker", cmd_worker},
};

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        main__usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("pstudio %s\n", PSTUDIO_VERSION);
        return 0;
    }
    /* Keep freed memory for the next request instead of giving it back to
     * the kernel: a page of personas is ~115 KB of JSON, which glibc would
     * map and unmap (or trim off a thread's heap) every time, and the page
     * faults to map it again cost 15 % of the server's CPU (decision 40). */
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
    mallopt(M_TRIM_THRESHOLD, 16 << 20);
    /* Past a file size limit (systemd's LimitFSIZE=, ulimit -f) a write
     * fails with EFBIG, reported like a full disk, instead of the signal
     * killing the process mid-request (decision 142). ffmpeg inherits the
     * ignored signal and fails its own write the same way. */
    signal(SIGXFSZ, SIG_IGN);
    if (sodium_init() < 0) {
        app_fail("libsodium failed to initialise");
        return 1;
    }
    for (size_t i = 0; i < sizeof(main__cmds) / sizeof(main__cmds[0]); i++) {
        if (strcmp(argv[1], main__cmds[i].name) != 0)
            continue;
        config c;
        error err;
        if (config_load(&c, argc - 2, argv + 2, &err) != 0) {
            app_fail("%s", err.message);
            config_free(&c);
            return EXIT_USAGE;
        }
        log_init((log_level)log_level_parse(c.log_level), NULL);
        int status = main__cmds[i].run(&c);
        config_free(&c);
        return status;
    }
    app_fail("unknown command '%s'; run 'pstudio --help' for the list", argv[1]);
    return EXIT_USAGE;
}
