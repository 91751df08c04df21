/*
 * The personas resource, /api/v1/personas: listing, CRUD with optimistic
 * concurrency (ETag/If-Match on the version), the version history, diffs,
 * restore, and export/import of portable presets. The rules (visibility,
 * ownership, plan locks, history in the same transaction) live in
 * persona_service; this file maps HTTP onto it.
 *
 * The history listing pages by version, not by id: its cursor is the
 * version number (as a string) of the last item of the previous page.
 */
#include "base/error.h"
#include "base/jsonout.h"
#include "http/api.h"
#include "http/routes.h"
#include "services/persona_service.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The body of a restore: the version to make current again, and why. */
static const row_col persona__restore_cols[] = {
    ROW_FIELD("version", ROW_INT64, ROW_CREATE | ROW_REQUIRED, 1, PERSONA_VERSION_MAX),
    ROW_FIELD("change_reason", ROW_TEXT, ROW_CREATE, 0, PERSONA_REASON_MAX),
};
static const row_spec persona__restore = ROW_SPEC(char, "restore", persona__restore_cols);

/* ---- helpers ------------------------------------------------------------- */

/* The API form of a persona: its columns (the instruction null when
 * withheld from the viewer), then whether it is locked for the viewer. */
static void persona__emit(jw *w, const persona *p, const principal *who)
{
    persona shown = *p;
    if (!persona_service_can_read_content(p, who))
        shown.system_instruction = NULL;
    jw_obj_begin(w);
    row_json_members(w, &persona_row, &shown);
    jw_member_bool(w, "locked", persona_service_is_locked(p, who));
    jw_obj_end(w);
}

static void persona__reply(http_request *r, int status, const persona *p, const principal *who)
{
    api_set_etag(r, p->version);
    if (status == 201) {
        char *loc = arena_sprintf(http_arena(r), "/api/v1/personas/%s", p->id);
        http_set_header(r, "Location", loc);
    }
    http_json j;
    http_json_begin(&j);
    persona__emit(&j.w, p, who);
    http_reply_written(r, status, &j);
}

/* Parses a whole decimal number in [min, max]; false for anything else. */
static bool persona__parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (s == NULL || *s < '0' || *s > '9')
        return false;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* A numeric query parameter; absent gives def (or a 422 when def < 0). */
static bool persona__query_int(http_request *r, const char *name, int64_t min, int64_t max,
                               int64_t def, int64_t *out)
{
    const char *v = http_query(r, name);
    if (v == NULL && def >= 0) {
        *out = def;
        return true;
    }
    if (persona__parse_int(v, min, max, out))
        return true;
    error e;
    error_set(&e, ERR_INVALID, name, "%s must be a whole number from %lld to %lld", name,
              (long long)min, (long long)max);
    http_reply_error(r, &e);
    return false;
}

static const char *persona__id(http_request *r)
{
    return api_uuid_param(r, "id", "persona");
}

/* ---- list ------------------------------------------------------------------ */

typedef struct persona__page {
    const principal *who;
    http_json out;
    int n;
    char last[UUID_STR_LEN + 1];
} persona__page;

/* A persona in the list: its summary (persona_store_list), the
 * instruction's length and preview null when it is withheld. */
static void persona__emit_summary(jw *w, const persona *p, const principal *who)
{
    bool content = persona_service_can_read_content(p, who);
    jw_obj_begin(w);
    row_json_names(w, &persona_row, p, PERSONA_SUMMARY_JSON);
    jw_member_count(w, "system_instruction_length", content ? p->system_instruction_length : -1);
    jw_member_str(w, "system_instruction_preview", content ? p->system_instruction_preview : NULL);
    jw_member_bool(w, "locked", persona_service_is_locked(p, who));
    jw_obj_end(w);
}

static int persona__page_add(const persona *p, void *ctx)
{
    persona__page *pg = ctx;
    persona__emit_summary(&pg->out.w, p, pg->who);
    snprintf(pg->last, sizeof(pg->last), "%s", p->id);
    pg->n++;
    return 0;
}

static bool persona__enum_query(http_request *r, const char *name, const char *const *values,
                                const char **out)
{
    *out = http_query(r, name);
    if (*out == NULL)
        return true;
    for (size_t i = 0; values[i]; i++)
        if (strcmp(*out, values[i]) == 0)
            return true;
    error e;
    error_set(&e, ERR_INVALID, name, "%s must be one of %s, %s", name, values[0], values[1]);
    http_reply_error(r, &e);
    return false;
}

static void h_personas_list(http_request *r)
{
    static const char *const params[] = {"type",  "visibility", "language", "mine",
                                         "limit", "cursor",     NULL};
    static const char *const booleans[] = {"true", "false", NULL};
    const principal *who;
    if (!(who = api_auth(r)))
        return;
    api_page page;
    persona_filter f = {0};
    const char *mine;
    if (!api_query_allowed(r, params) || !api_page_read(r, &page) ||
        !persona__enum_query(r, "type", persona_types, &f.type) ||
        !persona__enum_query(r, "visibility", persona_visibilities, &f.visibility) ||
        !persona__enum_query(r, "mine", booleans, &mine))
        return;
    f.mine = mine != NULL && strcmp(mine, "true") == 0;
    f.language = http_query(r, "language");
    if (f.language != NULL &&
        (strlen(f.language) < PERSONA_LANGUAGE_MIN || strlen(f.language) > PERSONA_LANGUAGE_MAX)) {
        error e;
        error_set(&e, ERR_INVALID, "language",
                  "language must be a BCP-47 tag of %d to %d characters such as en or pt-BR",
                  PERSONA_LANGUAGE_MIN, PERSONA_LANGUAGE_MAX);
        http_reply_error(r, &e);
        return;
    }
    db_conn *c = api_conn(r);
    if (c == NULL)
        return;
    persona__page pg = {.who = who};
    api_page_begin(&pg.out);
    error err = {0};
    if (persona_service_list(c, who, &f, page.cursor, page.limit, persona__page_add, &pg, &err) !=
        0) {
        buf_free(&pg.out.text);
        http_reply_error(r, &err);
        return;
    }
    api_page_end(r, &pg.out, pg.n == page.limit ? pg.last : NULL);
}

/* ---- one persona ------------------------------------------------------------ */

/* Create and import differ only in the fields they accept and the use case
 * that turns them into a new persona. */
typedef int (*persona__maker)(db_conn *c, arena *a, const principal *who, const json_t *in,
                              persona *out, error *err);

static void persona__make(http_request *r, const row_spec *spec, persona__maker make)
{
    const principal *who;
    if (!(who = api_auth(r)))
        return;
    json_t *in = api_body(r, spec, API_CREATE, who);
    db_conn *c = in ? api_conn(r) : NULL;
    if (c == NULL)
        return;
    persona p;
    error err = {0};
    if (make(c, http_arena(r), who, in, &p, &err) != 0) {
        http_reply_error(r, &err);
        return;
    }
    persona__reply(r, 201, &p, who);
}

static void h_personas_create(http_request *r)
{
    persona__make(r, &persona_row, persona_service_create);
}

static void h_personas_get(http_request *r)
{
    const principal *who;
    const char *id;
    db_conn *c;
    if (!(who = api_auth(r)) || !(id = persona__id(r)) || !(c = api_conn(r)))
        return;
    persona p;
    error err = {0};
    if (persona_service_get_visible(c, http_arena(r), who, id, &p, &err) != 0) {
        http_reply_error(r, &err);
        return;
    }
    persona__reply(r, 200, &p, who);
}

/* What a write to one persona needs first: the caller, the id, If-Match,
 * the checked body and a connection. False once a reply has been sent. */
typedef struct persona__write {
    const principal *who;
    const char *id;
    int64_t if_match;
    json_t *in;
    db_conn *c;
} persona__write;

static bool persona__write_begin(http_request *r, const row_spec *spec, api_mode mode,
                                 persona__write *w)
{
    if (!(w->who = api_auth(r)) || !(w->id = persona__id(r)))
        return false;
    bool bad = false;
    w->if_match = api_if_match(r, &bad);
    if (bad)
        return false;
    w->in = api_body(r, spec, mode, w->who);
    w->c = w->in ? api_conn(r) : NULL;
    return w->c != NULL;
}

static void h_personas_update(http_request *r)
{
    persona__write w;
    if (!persona__write_begin(r, &persona_row, API_UPDATE, &w))
        return;
    persona p;
    error err = {0};
    if (persona_service_update(w.c, http_arena(r), w.who, w.id, w.in, w.if_match, &p, &err) != 0) {
        http_reply_error(r, &err);
        return;
    }
    persona__reply(r, 200, &p, w.who);
}

static void h_personas_delete(http_request *r)
{
    const principal *who;
    const char *id;
    if (!(who = api_auth(r)) || !(id = persona__id(r)))
        return;
    bool bad = false;
    int64_t if_match = api_if_match(r, &bad);
    db_conn *c = bad ? NULL : api_conn(r);
    if (c == NULL)
        return;
    error err = {0};
    if (persona_service_delete(c, http_arena(r), who, id, if_match, &err) != 0) {
        http_reply_error(r, &err);
        return;
    }
    http_reply(r, 204, NULL, NULL, 0);
}

/* ---- history ---------------------------------------------------------------- */

typedef struct persona__history_page {
    http_json out;
    int n;
    int64_t last;
} persona__history_page;

static int persona__history_add(const persona_revision *rev, void *ctx)
{
    persona__history_page *pg = ctx;
    row_json_write(&pg->out.w, &persona_history_row, rev);
    pg->last = rev->version;
    pg->n++;
    return 0;
}

static void h_personas_history(http_request *r)
{
    static const char *const params[] = {"limit", "cursor", NULL};
    const principal *who;
    const char *id;
    if (!(who = api_auth(r)) || !(id = persona__id(r)) || !api_query_allowed(r, params))
        return;
    int64_t limit, before;
    if (!persona__query_int(r, "limit", 1, 100, 20, &limit) ||
        !persona__query_int(r, "cursor", 1, PERSONA_VERSION_MAX, 0, &before))
        return;
    db_conn *c = api_conn(r);
    if (c == NULL)
        return;
    persona__history_page pg = {0};
    api_page_begin(&pg.out);
    error err = {0};
    if (persona_service_history(c, http_arena(r), who, id, before, (int)limit, persona__history_add,
                                &pg, &err) != 0) {
        buf_free(&pg.out.text);
        http_reply_error(r, &err);
        return;
    }
    char next[24];
    snprintf(next, sizeof(next), "%lld", (long long)pg.last);
    api_page_end(r, &pg.out, pg.n == limit ? next : NULL);
}

static void h_personas_version(http_request *r)
{
    const principal *who;
    const char *id;
    if (!(who = api_auth(r)) || !(id = persona__id(r)))
        return;
    int64_t version;
    if (!persona__parse_int(http_param(r, "version"), 1, PERSONA_VERSION_MAX, &version)) {
        error e;
        error_set(&e, ERR_NOT_FOUND, NULL, "persona %s has no version '%s'", id,
                  http_param(r, "version"));
        http_reply_error(r, &e);
        return;
    }
    db_conn *c = api_conn(r);
    if (c == NULL)
        return;
    persona_revision rev;
    json_t *snap = NULL;
    error err = {0};
    if (persona_service_revision(c, http_arena(r), who, id, version, &rev, &snap, &err) != 0) {
        http_reply_error(r, &err);
        return;
    }
    http_json j;
    http_json_begin(&j);
    jw_obj_begin(&j.w);
    row_json_members(&j.w, &persona_history_row, &rev);
    jw_key(&j.w, "snapshot");
    jw_value(&j.w, snap);
    jw_obj_end(&j.w);
    json_decref(snap);
    http_reply_written(r, 200, &j);
}

static void h_personas_diff(http_request *r)
{
    static const char *const params[] = {"from", "to", NULL};
    const principal *who;
    const char *id;
    if (!(who = api_auth(r)) || !(id = persona__id(r)) || !api_query_allowed(r, params))
        return;
    int64_t from, to;
    if (!persona__query_int(r, "from", 1, PERSONA_VERSION_MAX, -1, &from) ||
        !persona__query_int(r, "to", 1, PERSONA_VERSION_MAX, -1, &to))
        return;
    db_conn *c = api_conn(r);
    if (c == NULL)
        return;
    json_t *changes = NULL;
    error err = {0};
    if (persona_service_diff(c, http_arena(r), who, id, from, to, &changes, &err) != 0) {
        http_reply_error(r, &err);
        return;
    }
    http_reply_json(r, 200,
                    json_pack("{s:I, s:I, s:o}", "from", (json_int_t)from, "to", (json_int_t)to,
                              "changes", changes));
}

static void h_personas_restore(http_request *r)
{
    persona__write w;
    if (!persona__write_begin(r, &persona__restore, API_CREATE, &w))
        return;
    persona p;
    error err = {0};
    if (persona_service_restore(
            w.c, http_arena(r), w.who, w.id, json_integer_value(json_object_get(w.in, "version")),
            json_string_value(json_object_get(w.in, "change_reason")), w.if_match, &p, &err) != 0) {
        http_reply_error(r, &err);
        return;
    }
    persona__reply(r, 200, &p, w.who);
}

/* ---- presets -------------------------------------------------------------- */

static void h_personas_export(http_request *r)
{
    const principal *who;
    const char *id;
    db_conn *c;
    if (!(who = api_auth(r)) || !(id = persona__id(r)) || !(c = api_conn(r)))
        return;
    persona p;
    error err = {0};
    if (persona_service_export(c, http_arena(r), who, id, &p, &err) != 0) {
        http_reply_error(r, &err);
        return;
    }
    http_json j;
    http_json_begin(&j);
    jw_obj_begin(&j.w);
    jw_member_str(&j.w, "format", PERSONA_PRESET_FORMAT);
    row_json_names(&j.w, &persona_row, &p, PERSONA_PRESET);
    jw_obj_end(&j.w);
    http_reply_written(r, 200, &j);
}

static void h_personas_import(http_request *r)
{
    persona__make(r, &persona_preset_row, persona_service_import);
}

const http_route personas_routes[] = {
    {"GET", "/api/v1/personas", h_personas_list, "personas.list"},
    {"POST", "/api/v1/personas", h_personas_create, "personas.create"},
    {"POST", "/api/v1/personas/import", h_personas_import, "personas.import"},
    {"GET", "/api/v1/personas/{id}", h_personas_get, "personas.get"},
    {"PATCH", "/api/v1/personas/{id}", h_personas_update, "personas.update"},
    {"DELETE", "/api/v1/personas/{id}", h_personas_delete, "personas.delete"},
    {"GET", "/api/v1/personas/{id}/history", h_personas_history, "personas.history"},
    {"GET", "/api/v1/personas/{id}/history/{version}", h_personas_version, "personas.version"},
    {"GET", "/api/v1/personas/{id}/diff", h_personas_diff, "personas.diff"},
    {"POST", "/api/v1/personas/{id}/restore", h_personas_restore, "personas.restore"},
    {"GET", "/api/v1/personas/{id}/export", h_personas_export, "personas.export"},
};
const size_t personas_routes_count = sizeof(personas_routes) / sizeof(personas_routes[0]);
