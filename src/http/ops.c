/*
 * Operational endpoints, for orchestrators and scrapers rather than users:
 * liveness (the process answers), readiness (it can reach its database),
 * Prometheus metrics, and the OpenAPI document.
 */
#include "http/http.h"

#include "base/buf.h"
#include "base/log.h"
#include "db/db.h"
#include "http/api.h"
#include "http/metrics.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

/* Liveness must not depend on the database: a restart does not fix a
 * database outage, and restarting every replica at once makes it worse. */
static void ops_healthz(http_request *r)
{
    http_reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

static void ops_readyz(http_request *r)
{
    db *pool = http_db(r);
    if (pool == NULL) {
        http_reply_problem(r, 503, "not-ready", "Not ready", "No database is configured.");
        return;
    }
    db_error derr = {0};
    if (db_ping(pool, &derr) != 0) {
        /* Probes are unauthenticated: the engine's text (host, port, user,
         * database) is for the log only. */
        log_warn("readyz: database unavailable (%s): %s", db_fault_name(derr.fault), derr.message);
        http_reply_problem(r, 503, "not-ready", "Not ready",
                           "The database is not reachable; the details are in the server's log.");
        return;
    }
    http_reply_json(
        r, 200,
        json_pack("{s:s, s:s}", "status", "ready", "database", db_engine_name(db_engine_of(pool))));
}

/* The figures name every route and its traffic, which is nobody's business
 * but the operator's. Without a token only this host may read them; with
 * one, everyone must send it, loopback peers too: behind a reverse proxy on
 * the same host every client is a loopback peer. */
static bool ops_metrics_allowed(http_request *r)
{
    const char *token = http_request_metrics_token(r);
    if (token == NULL)
        return http_client_is_loopback(r);
    const char *auth = http_header(r, "Authorization");
    if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
        return false;
    auth += 7;
    size_t n = strlen(token);
    return strlen(auth) == n && sodium_memcmp(auth, token, n) == 0;
}

static void ops_metrics(http_request *r)
{
    if (!ops_metrics_allowed(r)) {
        if (http_request_metrics_token(r) == NULL) {
            http_reply_problem(r, 403, "forbidden", "Forbidden",
                               "Metrics are served to this host only (a loopback address).");
            return;
        }
        http_set_header(r, "WWW-Authenticate", "Bearer realm=\"metrics\"");
        http_reply_problem(r, 401, "unauthorized", "Unauthorized",
                           "Metrics are served to requests that carry the metrics token "
                           "(Authorization: Bearer <token>).");
        return;
    }
    buf out;
    buf_init(&out, 16 * 1024 * 1024);
    http_metrics_render(http_request_metrics(r), http_db(r), &out);
    services *svc = api_services(r);
    http_metrics_render_auth_cache(svc != NULL ? svc->auth_cache : NULL, &out);
    http_reply(r, 200, HTTP_METRICS_CONTENT_TYPE, buf_cstr(&out), out.len);
    buf_free(&out);
}

/* The document is embedded at build time from src/http/openapi.json. */
extern const char http_openapi_json[];
extern const unsigned long http_openapi_json_len;

static void ops_openapi(http_request *r)
{
    http_set_header(r, "Cache-Control", "public, max-age=300");
    http_reply(r, 200, "application/json", http_openapi_json, http_openapi_json_len);
}

const http_route http_ops_routes[] = {
    {"GET", "/api/openapi.json", ops_openapi, "ops.openapi"},
    {"GET", "/healthz", ops_healthz, "ops.healthz"},
    {"GET", "/readyz", ops_readyz, "ops.readyz"},
    {"GET", "/metrics", ops_metrics, "ops.metrics"},
};
const size_t http_ops_routes_count = sizeof(http_ops_routes) / sizeof(http_ops_routes[0]);
