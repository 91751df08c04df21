#include "app/app.h"

#include "base/alloc.h"
#include "base/buf.h"
#include "base/log.h"
#include "http/http.h"
#include "http/routes.h"
#include "jobs/worker.h"
#include "providers/media_store.h"
#include "services/auth_cache.h"
#include "services/services.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_serve(config *c)
{
    for (int i = 0; i < c->argc; i++) {
        if (strcmp(c->argv[i], "--help") == 0) {
            printf("Usage: pstudio serve [settings]\n\n"
                   "Runs the HTTP API under /api/v1, /healthz, /readyz and /metrics, and\n"
                   "PSTUDIO_WORKERS job worker threads in-process (0: none).\n"
                   "Stops gracefully on SIGTERM or SIGINT: in-flight requests finish first\n"
                   "(new ones are answered 503 meanwhile),\n"
                   "then running jobs (the rest go back to the queue).\n\n");
            config_print_help(stdout);
            return 0;
        }
        app_fail("serve: unexpected argument '%s'", c->argv[i]);
        return EXIT_USAGE;
    }

    /* Block the stop signals before any thread starts, so every thread
     * inherits the mask and only sigwait() below sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    int status;
    if ((status = app_hold_database(c)) != 0)
        return status;
    db *d = app_open_db(c, c->db_pool_size, c->auto_migrate, &status);
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
    /* SQLite's lookup is in-process: no cache there, revocation is immediate. */
    if (c->auth_cache_size > 0 && db_engine_of(d) == DB_ENGINE_POSTGRES)
        svc.auth_cache =
            auth_cache_start(db_url(d), c->auth_cache_size, AUTH_CACHE_DEFAULT_TTL_USEC);
    size_t nroutes;
    http_route *routes = http_all_routes(&nroutes);
    http_server_config hc = {
        .bind_addr = c->bind,
        .port = c->port,
        .threads = c->http_threads,
        .max_body = (size_t)c->max_body_bytes,
        .shutdown_timeout_ms = c->shutdown_timeout_ms,
        .max_connections_per_ip = c->max_connections_per_ip,
        .first_request_timeout_s = c->first_request_timeout_s,
        .hsts = c->cookie_secure,
        .metrics_token = c->metrics_token,
        .trusted_proxies = c->trusted_proxies,
        .proxy_header = c->proxy_header,
        .db = d,
        .app = &svc,
    };
    error err;
    http_server *srv = http_server_start(&hc, routes, nroutes, &err);
    free(routes); /* the server keeps its own copy of the table */
    if (srv == NULL) {
        if (err.field[0] != '\0')
            app_fail("%s: %s", err.field, err.message);
        else
            app_fail("%s", err.message);
        auth_cache_free(svc.auth_cache);
        media_store_free(svc.media);
        db_close(d);
        return err.kind == ERR_CONFIG ? EXIT_USAGE : 1;
    }
    buf fields;
    buf_init(&fields, 1024);
    buf_puts(&fields, "\"bind\":\"");
    log_json_escape(&fields, c->bind);
    buf_printf(&fields, "\",\"port\":%d,\"database\":\"%s\"", http_server_port(srv),
               db_engine_name(db_engine_of(d)));
    log_write(LOG_INFO, buf_cstr(&fields), "pstudio %s listening on http://%s:%d", PSTUDIO_VERSION,
              c->bind, http_server_port(srv));
    buf_free(&fields);

    app_register_jobs(&svc);
    job_pool *jobs = NULL;
    if (c->workers > 0) {
        if (c->workers >= c->db_pool_size)
            log_warn("PSTUDIO_WORKERS (%d) is not below PSTUDIO_DB_POOL_SIZE (%d): busy workers "
                     "can hold every connection and stall HTTP requests",
                     c->workers, c->db_pool_size);
        char owner[64];
        app_job_owner(owner, sizeof(owner));
        jobs = job_pool_start_batch(d, c->workers, c->job_batch, owner, &err);
        if (jobs == NULL) {
            app_fail("PSTUDIO_DATABASE_URL: %s", err.message);
            http_server_stop(srv);
            auth_cache_free(svc.auth_cache);
            media_store_free(svc.media);
            db_close(d);
            return 1;
        }
    }

    int sig = 0;
    sigwait(&stop, &sig);
    log_info("received %s; finishing in-flight requests", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    http_server_stop(srv);
    job_pool_stop(jobs, c->shutdown_timeout_ms);
    auth_cache_free(svc.auth_cache);
    media_store_free(svc.media);
    db_close(d);
    log_info("stopped");
    return 0;
}
