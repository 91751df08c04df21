/*
 * pstudio worker: job workers and the scheduler, no HTTP. Run any number of
 * them against one PostgreSQL to scale out; `serve` runs the same pool
 * in-process.
 */
#include "app/app.h"

#include "base/buf.h"
#include "base/log.h"
#include "jobs/worker.h"
#include "providers/media_store.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void app_job_owner(char *out, size_t n)
{
    char host[64] = "";
    if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    snprintf(out, n, "%.30s:%ld", host, (long)getpid());
}

int cmd_worker(config *c)
{
    for (int i = 0; i < c->argc; i++) {
        if (strcmp(c->argv[i], "--help") == 0) {
            printf("Usage: pstudio worker [settings]\n\n"
                   "Runs PSTUDIO_WORKERS job worker threads and the scheduler of periodic jobs,\n"
                   "with no HTTP server. Any number of workers may share one PostgreSQL.\n"
                   "The schema must be current: run 'pstudio migrate' (or 'serve') first.\n"
                   "On SIGTERM or SIGINT running jobs get PSTUDIO_SHUTDOWN_TIMEOUT_MS to finish;\n"
                   "the rest go back to the queue for another worker.\n\n");
            config_print_help(stdout);
            return 0;
        }
        app_fail("worker: unexpected argument '%s'", c->argv[i]);
        return EXIT_USAGE;
    }
    if (c->workers < 1) {
        app_fail("PSTUDIO_WORKERS: 'pstudio worker' needs at least 1 worker thread");
        return EXIT_USAGE;
    }

    /* Block the stop signals before any thread starts (see cmd_serve). */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* Each busy worker holds one connection; keep one more for handlers'
     * side queries so a full pool cannot stall them. */
    int pool = c->db_pool_size > c->workers ? c->db_pool_size : c->workers + 1;
    int status;
    if ((status = app_hold_database(c)) != 0)
        return status;
    db *d = app_open_db(c, pool, false, &status);
    if (d == NULL)
        return status;

    services svc;
    app_services_from_config(c, &svc);
    svc.db = d;
    if ((status = app_check_token_key(&svc)) != 0) {
        db_close(d);
        return status;
    }
    app_check_clock(d, c->clock_skew_warn_ms);
    if ((status = app_open_media(&svc, c)) != 0) {
        db_close(d);
        return status;
    }
    app_register_jobs(&svc);

    char owner[64];
    app_job_owner(owner, sizeof(owner));
    error err;
    job_pool *p = job_pool_start_batch(d, c->workers, c->job_batch, owner, &err);
    if (p == NULL) {
        app_fail("PSTUDIO_DATABASE_URL: %s", err.message);
        media_store_free(svc.media);
        db_close(d);
        return 1;
    }
    buf fields;
    buf_init(&fields, 256);
    buf_printf(&fields, "\"workers\":%d,\"database\":\"%s\"", c->workers,
               db_engine_name(db_engine_of(d)));
    log_write(LOG_INFO, buf_cstr(&fields), "pstudio %s worker running", PSTUDIO_VERSION);
    buf_free(&fields);

    int sig = 0;
    sigwait(&stop, &sig);
    log_info("received %s; letting running jobs finish (up to %d ms)",
             sig == SIGTERM ? "SIGTERM" : "SIGINT", c->shutdown_timeout_ms);
    job_pool_stop(p, c->shutdown_timeout_ms);
    media_store_free(svc.media);
    db_close(d);
    log_info("stopped");
    return 0;
}
