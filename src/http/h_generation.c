/*
 * Script generation over HTTP: regenerating a project's script or one of
 * its scenes (202, the work is queued), the usage summary of a persona,
 * and GET /api/v1/events, a server-sent event stream of the caller's own
 * projects' progress. The use cases live in script_service.
 *
 * The event stream polls: every EVENTS_POLL_MS it borrows a pooled
 * connection for one indexed query (the user's projects changed since the
 * last poll) and gives it straight back, so an open stream holds no
 * database connection and no server thread between polls. Changes are
 * read with an overlap window and de-duplicated, so a transaction that
 * commits a little after its updated_at still gets reported. A stream
 * ends after EVENTS_MAX_MS (clients reconnect, with Last-Event-ID) and at
 * shutdown.
 */
#include "http/h_generation.h"

#include "base/alloc.h"
#include "base/buf.h"
#include "base/jsonout.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "domain/limits.h"
#include "http/routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVENTS_POLL_MS      500
#define EVENTS_MAX_MS       (5 * 60 * 1000)
#define EVENTS_KEEPALIVE_MS 15000
#define EVENTS_OVERLAP_US   ((int64_t)5 * 1000000) /* how late a commit may be and still show */
#define EVENTS_BATCH        100
#define EVENTS_SEEN_MAX     512
#define USAGE_DEFAULT_DAYS  30
#define USAGE_MAX_DAYS      400

static const char *const NO_QUERY[] = {NULL};
static const char *const USAGE_QUERY[] = {"since", "until", NULL};

/* The controls of one generation, as the project keeps them (project_row). */
#define LANGUAGE_FIELD                                                                             \
    ROW_FIELD("language", ROW_TEXT, ROW_CREATE, PERSONA_LANGUAGE_MIN, PERSONA_LANGUAGE_MAX)
#define INSTRUCTIONS_FIELD                                                                         \
    ROW_FIELD("instructions", ROW_TEXT, ROW_CREATE, 0, SCRIPT_INSTRUCTIONS_MAX)
static const row_col GENERATE_COLS[] = {
    LANGUAGE_FIELD,
    ROW_FIELD("target_scenes", ROW_INT, ROW_CREATE, SCRIPT_SCENES_MIN, SCRIPT_SCENES_MAX),
    ROW_FIELD("target_seconds", ROW_INT, ROW_CREATE, SCRIPT_SECONDS_MIN, SCRIPT_SECONDS_MAX),
    INSTRUCTIONS_FIELD,
};
static const row_spec GENERATE = ROW_SPEC(char, "generation", GENERATE_COLS);
/* A scene is rewritten at its own length: no targets. */
static const row_col SCENE_GENERATE_COLS[] = {LANGUAGE_FIELD, INSTRUCTIONS_FIELD};
static const row_spec SCENE_GENERATE = ROW_SPEC(char, "generation", SCENE_GENERATE_COLS);

/* ---- shared with h_projects.c ------------------------------------------------ */

void h_generation_options(const json_t *in, script_options *o)
{
    memset(o, 0, sizeof(*o));
    o->language = json_string_value(json_object_get(in, "language"));
    o->target_scenes = (int)json_integer_value(json_object_get(in, "target_scenes"));
    o->target_seconds = (int)json_integer_value(json_object_get(in, "target_seconds"));
    o->instructions = json_string_value(json_object_get(in, "instructions"));
}

bool h_generation_idempotency(http_request *r, const json_t *body, script_idempotency *out)
{
    out->key = http_header(r, "Idempotency-Key");
    out->scope = arena_sprintf(http_arena(r), "%s %s", http_method(r), http_path(r));
    out->body = body;
    error e;
    if (out->key != NULL && script_service_check_key(out->key, &e) != 0) {
        http_reply_error(r, &e);
        return false;
    }
    return true;
}

void h_generation_reply(http_request *r, const script_reply *rep)
{
    if (rep->project_id[0] != '\0')
        http_set_header(r, "Location",
                        arena_sprintf(http_arena(r), "/api/v1/projects/%s", rep->project_id));
    if (rep->replayed)
        http_set_header(r, "Idempotent-Replayed", "true");
    http_reply(r, rep->status, "application/json", rep->body, strlen(rep->body));
}

/* The body of a regenerate request, which may be absent; NULL after a reply. */
static bool h_generation__body(http_request *r, const row_spec *fields, const principal *p,
                               json_t **in)
{
    *in = NULL;
    size_t len = 0;
    http_body(r, &len);
    if (len == 0)
        return true;
    *in = api_body(r, fields, API_CREATE, p);
    return *in != NULL;
}

/* ---- regenerate ----------------------------------------------------------------- */

static void h_generation__regenerate(http_request *r)
{
    const principal *p;
    const char *id;
    if (!(p = api_auth(r)) || !(id = api_uuid_param(r, "id", "project")) ||
        !api_query_allowed(r, NO_QUERY))
        return;
    error e;
    /* Another user's project is a 404 whatever the body says. */
    if (script_service_check_target(api_conn(r), http_arena(r), p, id, NULL, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    json_t *in;
    script_options o;
    script_idempotency idem;
    if (!h_generation__body(r, &GENERATE, p, &in) || !h_generation_idempotency(r, in, &idem))
        return;
    h_generation_options(in, &o);
    script_reply rep;
    if (script_service_regenerate(api_conn(r), http_arena(r), p, id, &o, &idem, &rep, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    h_generation_reply(r, &rep);
}

static void h_generation__regenerate_scene(http_request *r)
{
    const principal *p;
    const char *id, *scene_id;
    if (!(p = api_auth(r)) || !(id = api_uuid_param(r, "id", "project")) ||
        !(scene_id = api_uuid_param(r, "scene_id", "scene")) || !api_query_allowed(r, NO_QUERY))
        return;
    error e;
    if (script_service_check_target(api_conn(r), http_arena(r), p, id, scene_id, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    json_t *in;
    script_options o;
    script_idempotency idem;
    if (!h_generation__body(r, &SCENE_GENERATE, p, &in) || !h_generation_idempotency(r, in, &idem))
        return;
    h_generation_options(in, &o);
    script_reply rep;
    if (script_service_regenerate_scene(api_conn(r), http_arena(r), p, id, scene_id, &o, &idem,
                                        &rep, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    h_generation_reply(r, &rep);
}

/* ---- usage ----------------------------------------------------------------------- */

/* One set of attempts: its action (one action's only), its counts from
 * the spec, then the rate and the percentiles, null with no attempt. */
static void h_generation__stats(jw *w, const usage_stats *st)
{
    if (st->action != NULL)
        jw_member_str(w, "action", st->action);
    row_json_members(w, &usage_stats_row, st);
    jw_key(w, "success_rate");
    if (st->attempts)
        jw_real(w, (double)st->successes / (double)st->attempts);
    else
        jw_null(w);
    jw_key(w, "duration_ms");
    jw_obj_begin(w);
    jw_key(w, "p50");
    if (st->attempts)
        jw_int(w, st->p50_ms);
    else
        jw_null(w);
    jw_key(w, "p95");
    if (st->attempts)
        jw_int(w, st->p95_ms);
    else
        jw_null(w);
    jw_obj_end(w);
}

static void h_generation__usage(http_request *r)
{
    const principal *p;
    const char *id;
    if (!(p = api_auth(r)) || !(id = api_uuid_param(r, "id", "persona")) ||
        !api_query_allowed(r, USAGE_QUERY))
        return;
    int64_t until = time_now_usec(), since = 0;
    if (!api_time_param(r, "until", &until) || !api_time_param(r, "since", &since))
        return;
    if (http_query(r, "since") == NULL)
        since = until - (int64_t)USAGE_DEFAULT_DAYS * 86400 * 1000000;
    error e;
    if (until - since > (int64_t)USAGE_MAX_DAYS * 86400 * 1000000) {
        error_set(&e, ERR_INVALID, "since", "the period may span at most %d days", USAGE_MAX_DAYS);
        http_reply_error(r, &e);
        return;
    }
    usage_summary *sum = arena_alloc(http_arena(r), sizeof(*sum));
    if (script_service_usage(api_conn(r), http_arena(r), p, id, since, until, sum, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_json j;
    http_json_begin(&j);
    jw *w = &j.w;
    jw_obj_begin(w);
    h_generation__stats(w, &sum->total);
    jw_member_str(w, "persona_id", id);
    jw_member_time(w, "since", since);
    jw_member_time(w, "until", until);
    jw_key(w, "by_action");
    jw_arr_begin(w);
    for (size_t i = 0; i < sum->nactions; i++) {
        jw_obj_begin(w);
        h_generation__stats(w, &sum->by_action[i]);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_key(w, "errors");
    jw_arr_begin(w);
    for (size_t i = 0; i < sum->nerrors; i++)
        row_json_write(w, &usage_error_row, &sum->errors[i]);
    jw_arr_end(w);
    jw_obj_end(w);
    http_reply_written(r, 200, &j);
}

/* ---- events ---------------------------------------------------------------------- */

/* One open stream: whose projects, and what it has reported. Heap-owned by
 * the stream (it outlives the request). */
typedef struct events_ctx {
    struct db *d;
    char user_id[UUID_STR_LEN + 1];
    int64_t floor;  /* changes before this were the client's before it connected */
    int64_t cursor; /* the newest updated_at reported */
    int64_t started_mono;
    int64_t last_write_mono;
    bool greeted;
    struct {
        char id[UUID_STR_LEN + 1];
        int64_t updated_at;
    } seen[EVENTS_SEEN_MAX]; /* reported within the overlap window */
    size_t nseen;
} events_ctx;

static void events__free(void *arg)
{
    free(arg);
}

static bool events__seen(events_ctx *ev, const project_change *ch)
{
    for (size_t i = 0; i < ev->nseen; i++)
        if (ev->seen[i].updated_at == ch->updated_at && strcmp(ev->seen[i].id, ch->id) == 0)
            return true;
    return false;
}

/* Forgets what fell out of the overlap window, keeping room for more. */
static void events__prune(events_ctx *ev)
{
    size_t k = 0;
    for (size_t i = 0; i < ev->nseen; i++)
        if (ev->seen[i].updated_at >= ev->cursor - EVENTS_OVERLAP_US)
            ev->seen[k++] = ev->seen[i];
    ev->nseen = k;
    if (ev->nseen > EVENTS_SEEN_MAX - EVENTS_BATCH) { /* a burst: keep the newest */
        size_t drop = ev->nseen - (EVENTS_SEEN_MAX - EVENTS_BATCH);
        memmove(ev->seen, ev->seen + drop, (ev->nseen - drop) * sizeof(ev->seen[0]));
        ev->nseen -= drop;
    }
}

static void events__emit(events_ctx *ev, buf *out, const project_change *ch)
{
    json_t *data =
        json_pack("{s:s,s:s,s:o,s:o,s:i,s:o}", "id", ch->id, "status", ch->status, "error",
                  ch->error ? json_str(ch->error) : json_null(), "render_status",
                  ch->render_status ? json_str(ch->render_status) : json_null(), "render_progress",
                  ch->render_progress, "updated_at", api_time(ch->updated_at));
    buf_printf(out, "id: %lld\nevent: project\ndata: ", (long long)ch->updated_at);
    jsonout_value(out, data);
    buf_puts(out, "\n\n");
    json_decref(data);
    if (ev->nseen < EVENTS_SEEN_MAX) {
        snprintf(ev->seen[ev->nseen].id, sizeof(ev->seen[0].id), "%s", ch->id);
        ev->seen[ev->nseen++].updated_at = ch->updated_at;
    }
    if (ch->updated_at > ev->cursor)
        ev->cursor = ch->updated_at;
}

/* Borrows a connection for one query and gives it back at once. */
static void events__poll(events_ctx *ev, buf *out)
{
    arena a;
    arena_init(&a, 8192);
    db_conn *c = db_acquire(ev->d);
    project_change *rows = NULL;
    size_t n = 0;
    error e;
    int rc = script_service_changes(c, &a, ev->user_id, ev->cursor - EVENTS_OVERLAP_US,
                                    EVENTS_BATCH, &rows, &n, &e);
    db_release(c);
    if (rc != 0) {
        log_warn("event stream poll failed: %s", e.message); /* the next poll tries again */
        n = 0;
    }
    for (size_t i = 0; i < n; i++)
        if (rows[i].updated_at >= ev->floor && !events__seen(ev, &rows[i]))
            events__emit(ev, out, &rows[i]);
    events__prune(ev);
    arena_free(&a);
}

static http_stream_step events__step(void *arg, buf *out, bool stopping)
{
    events_ctx *ev = arg;
    int64_t now = time_mono_usec();
    size_t before = out->len;
    if (!ev->greeted) {
        /* The retry hint tells EventSource how soon to reconnect. */
        buf_puts(out, "retry: 2000\n: connected\n\n");
        ev->greeted = true;
    }
    if (stopping) {
        buf_puts(out, ": the server is restarting; reconnect\n\n");
        return HTTP_STREAM_END;
    }
    if (now - ev->started_mono >= (int64_t)EVENTS_MAX_MS * 1000) {
        buf_puts(out, ": stream time limit; reconnect\n\n");
        return HTTP_STREAM_END;
    }
    events__poll(ev, out);
    if (out->len == before && now - ev->last_write_mono >= (int64_t)EVENTS_KEEPALIVE_MS * 1000)
        buf_puts(out, ": keep-alive\n\n");
    if (out->len != before)
        ev->last_write_mono = now;
    return HTTP_STREAM_WAIT;
}

static void h_generation__events(http_request *r)
{
    const principal *p;
    if (!(p = api_auth(r)) || !api_query_allowed(r, NO_QUERY))
        return;
    events_ctx *ev = xcalloc(1, sizeof(*ev));
    ev->d = api_services(r)->db;
    snprintf(ev->user_id, sizeof(ev->user_id), "%s", p->user_id);
    ev->started_mono = ev->last_write_mono = time_mono_usec();
    ev->cursor = ev->floor = time_now_usec();
    /* A reconnecting client says where it was: resume from there. */
    const char *last = http_header(r, "Last-Event-ID");
    if (last != NULL) {
        char *end = NULL;
        long long v = strtoll(last, &end, 10);
        if (end != last && *end == '\0' && v > 0 && v <= ev->cursor &&
            ev->cursor - v <= (int64_t)EVENTS_MAX_MS * 1000)
            ev->cursor = ev->floor = v + 1;
    }
    http_set_header(r, "Cache-Control", "no-cache");
    http_set_header(r, "X-Accel-Buffering", "no"); /* proxies must not hold events back */
    /* One user cannot take every stream of the server from the others. */
    http_reply_stream(r, 200, "text/event-stream; charset=utf-8", EVENTS_POLL_MS, p->user_id,
                      api_services(r)->event_streams_per_user, events__step, events__free, ev);
}

const http_route generation_routes[] = {
    {"POST", "/api/v1/projects/{id}/generate", h_generation__regenerate, "projects.generate"},
    {"POST", "/api/v1/projects/{id}/scenes/{scene_id}/regenerate", h_generation__regenerate_scene,
     "scenes.regenerate"},
    {"GET", "/api/v1/personas/{id}/usage", h_generation__usage, "personas.usage"},
    {"GET", "/api/v1/events", h_generation__events, "events.stream"},
};
const size_t generation_routes_count = sizeof(generation_routes) / sizeof(generation_routes[0]);
