/*
 * /api/v1/projects and their scenes: a topic on its way to a video, the
 * persona that writes it, and the ordered scenes of its script. Every route
 * is scoped to the caller; another user's project or scene is a 404.
 */
#include "http/h_projects.h"
#include "base/jsonout.h"
#include "domain/limits.h"
#include "domain/project_store.h"
#include "http/api.h"
#include "http/h_generation.h"
#include "http/routes.h"
#include "services/analytics_service.h"
#include "services/project_service.h"
#include "services/script_service.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* The body of a reorder: every scene id of the project, in the new order. */
static const row_col REORDER_COLS[] = {
    ROW_LIST_FIELD("scene_ids", ROW_CREATE | ROW_REQUIRED, UUID_STR_LEN, UUID_STR_LEN,
                   PROJECT_SCENES_MAX),
};
static const row_spec REORDER = ROW_SPEC(char, "reorder", REORDER_COLS);

static const char *const NO_QUERY[] = {NULL};
static const char *const LIST_QUERY[] = {"limit",      "cursor",     "status",
                                         "channel_id", "persona_id", NULL};

/* Ids are stored in lowercase (SQLite compares text); clients may send either. */
static const char *h_projects__lower(http_request *r, const char *v)
{
    if (v == NULL)
        return NULL;
    char *s = arena_strdup(http_arena(r), v);
    for (char *c = s; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return s;
}

/* Where the files of a scene's finished narration are served: the Ogg named
 * by the scene, and the WAV, subtitles and timings beside it. */
static void h_projects__audio_write(jw *w, const scene *sc)
{
    jw_key(w, "audio");
    const char *dot = sc->audio_path ? strrchr(sc->audio_path, '.') : NULL;
    if (dot == NULL || strcmp(sc->audio_status, "COMPLETED") != 0) {
        jw_null(w);
        return;
    }
    static const struct {
        const char *key, *ext;
    } files[] = {
        {"ogg", ".ogg"}, {"wav", ".wav"}, {"srt", ".srt"}, {"vtt", ".vtt"}, {"timings", ".json"}};
    int stem = (int)(dot - sc->audio_path);
    char url[256];
    jw_obj_begin(w);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(url, sizeof(url), "/api/v1/projects/%s/media/%.*s%s", sc->project_id, stem,
                 sc->audio_path, files[i].ext);
        jw_member_str(w, files[i].key, url);
    }
    jw_obj_end(w);
}

/* Where a scene's finished image is served: the landscape PNG the scene
 * names and the portrait one beside it. */
static void h_projects__image_write(jw *w, const scene *sc)
{
    jw_key(w, "image");
    const char *dot = sc->image_path ? strrchr(sc->image_path, '.') : NULL;
    if (dot == NULL || strcmp(sc->image_status, "COMPLETED") != 0) {
        jw_null(w);
        return;
    }
    int stem = (int)(dot - sc->image_path);
    char url[256];
    jw_obj_begin(w);
    snprintf(url, sizeof(url), "/api/v1/projects/%s/media/%.*s.png", sc->project_id, stem,
             sc->image_path);
    jw_member_str(w, "landscape", url);
    snprintf(url, sizeof(url), "/api/v1/projects/%s/media/%.*s-portrait.png", sc->project_id, stem,
             sc->image_path);
    jw_member_str(w, "portrait", url);
    jw_obj_end(w);
}

void h_projects_scene_write(jw *w, const scene *sc)
{
    jw_obj_begin(w);
    jw_member_str(w, "id", sc->id);
    jw_member_int(w, "position", sc->position);
    jw_member_str(w, "narration", sc->narration);
    jw_member_str(w, "visual_description", sc->visual_description);
    jw_member_str(w, "image_status", sc->image_status);
    jw_member_str(w, "audio_status", sc->audio_status);
    jw_member_int(w, "image_generation", sc->image_generation);
    jw_member_int(w, "audio_generation", sc->audio_generation);
    jw_member_count(w, "duration_ms", sc->duration_ms);
    jw_member_str(w, "audio_error", sc->audio_error);
    h_projects__audio_write(w, sc);
    jw_member_str(w, "image_error", sc->image_error);
    h_projects__image_write(w, sc);
    jw_member_time(w, "created_at", sc->created_at);
    jw_member_time(w, "updated_at", sc->updated_at);
    jw_obj_end(w);
}

/* Where the project's video, thumbnail and WebVTT are served once one was
 * rendered (decisions 100, 155): fixed names, written atomically, so a stale or failed
 * render still serves the last video made. */
static void h_projects__video_write(jw *w, const project *pr)
{
    jw_key(w, "video");
    if (pr->rendered_at == 0) {
        jw_null(w);
        return;
    }
    char url[160];
    jw_obj_begin(w);
    snprintf(url, sizeof(url), "/api/v1/projects/%s/media/video.mp4", pr->id);
    jw_member_str(w, "mp4", url);
    snprintf(url, sizeof(url), "/api/v1/projects/%s/media/thumbnail.png", pr->id);
    jw_member_str(w, "thumbnail", url);
    snprintf(url, sizeof(url), "/api/v1/projects/%s/media/video.vtt", pr->id);
    jw_member_str(w, "vtt", url);
    jw_obj_end(w);
}

void h_projects_members_write(jw *w, const project *pr)
{
    row_json_members(w, &project_row, pr);
    h_projects__video_write(w, pr);
}

void h_projects_project_write(jw *w, const project *pr)
{
    jw_obj_begin(w);
    h_projects_members_write(w, pr);
    jw_obj_end(w);
}

static void h_projects__scenes_write(jw *w, const scene *rows, size_t n)
{
    jw_arr_begin(w);
    for (size_t i = 0; i < n; i++)
        h_projects_scene_write(w, &rows[i]);
    jw_arr_end(w);
}

static void h_projects__reply(http_request *r, int status, const project *pr)
{
    http_json j;
    http_json_begin(&j);
    h_projects_project_write(&j.w, pr);
    http_reply_written(r, status, &j);
}

static void h_projects__scene_reply(http_request *r, int status, const scene *sc)
{
    http_json j;
    http_json_begin(&j);
    h_projects_scene_write(&j.w, sc);
    http_reply_written(r, status, &j);
}

/* {"items": [scenes]}: the scene list, whole (a project has few). */
static void h_projects__scenes_reply(http_request *r, const scene *rows, size_t n)
{
    http_json j;
    http_json_begin(&j);
    jw_obj_begin(&j.w);
    jw_key(&j.w, "items");
    h_projects__scenes_write(&j.w, rows, n);
    jw_obj_end(&j.w);
    http_reply_written(r, 200, &j);
}

/* A string member, or NULL for null/absent; *set says whether it was given. */
static const char *h_projects__opt(json_t *in, const char *name, bool *set)
{
    json_t *v = json_object_get(in, name);
    if (set != NULL)
        *set = v != NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The strings of a list api_body has already checked, in the request arena. */
static const char *const *h_projects__strings(http_request *r, json_t *arr, size_t *n, bool lower)
{
    *n = json_array_size(arr);
    const char **out = arena_alloc(http_arena(r), sizeof(*out) * (*n ? *n : 1));
    for (size_t i = 0; i < *n; i++) {
        const char *s = json_string_value(json_array_get(arr, i));
        out[i] = lower ? h_projects__lower(r, s) : s;
    }
    return out;
}

static void h_projects__input(http_request *r, json_t *in, project_input *pi)
{
    memset(pi, 0, sizeof(*pi));
    pi->topic = h_projects__opt(in, "topic", NULL);
    pi->title = h_projects__opt(in, "title", &pi->set_title);
    pi->description = h_projects__opt(in, "description", &pi->set_description);
    /* api_body has lowercased the ids (ROW_UUID). */
    pi->channel_id = h_projects__opt(in, "channel_id", &pi->set_channel);
    pi->persona_id = h_projects__opt(in, "persona_id", NULL);
    json_t *tags = json_object_get(in, "tags");
    pi->set_tags = tags != NULL;
    if (tags != NULL)
        pi->tags = h_projects__strings(r, tags, &pi->ntags, false);
}

static void h_projects__create(http_request *r)
{
    const principal *p;
    if (!(p = api_auth(r)) || !api_query_allowed(r, NO_QUERY))
        return;
    json_t *in = api_body(r, &project_row, API_CREATE, p);
    if (in == NULL)
        return;
    project_input pi;
    h_projects__input(r, in, &pi);
    json_t *gen = json_object_get(in, "generate");
    script_options o;
    h_generation_options(in, &o);
    script_idempotency idem;
    if (!h_generation_idempotency(r, in, &idem))
        return;
    script_reply rep;
    error e;
    if (script_service_create(api_conn(r), http_arena(r), p, &pi, gen == NULL || json_is_true(gen),
                              &o, &idem, &rep, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    h_generation_reply(r, &rep);
}

/* Reads one optional filter; false after a 422 for a malformed value. */
static bool h_projects__filter(http_request *r, const char *name, bool is_uuid, const char **out)
{
    const char *v = http_query(r, name);
    *out = NULL;
    if (v == NULL)
        return true;
    bool ok = false;
    if (is_uuid) {
        ok = uuid_is_valid(v);
        v = h_projects__lower(r, v);
    } else {
        for (const char *const *s = project_statuses; *s && !ok; s++)
            ok = strcmp(*s, v) == 0;
    }
    if (!ok) {
        error e;
        if (is_uuid)
            error_set(&e, ERR_INVALID, name, "%s must be an id (a UUID)", name);
        else
            error_set(&e, ERR_INVALID, name,
                      "status must be one of: draft, queued, generating, scripted, producing, "
                      "ready, failed");
        http_reply_error(r, &e);
        return false;
    }
    *out = v;
    return true;
}

static void h_projects__list(http_request *r)
{
    const principal *p;
    api_page pg;
    project_filter f;
    if (!(p = api_auth(r)) || !api_query_allowed(r, LIST_QUERY) || !api_page_read(r, &pg) ||
        !h_projects__filter(r, "status", false, &f.status) ||
        !h_projects__filter(r, "channel_id", true, &f.channel_id) ||
        !h_projects__filter(r, "persona_id", true, &f.persona_id))
        return;
    project *rows;
    size_t n;
    error e;
    if (project_service_list(api_conn(r), http_arena(r), p, &f, pg.cursor, pg.limit, &rows, &n,
                             &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_json j;
    api_page_begin(&j);
    for (size_t i = 0; i < n; i++)
        h_projects_project_write(&j.w, &rows[i]);
    api_page_end(r, &j, n == (size_t)pg.limit ? rows[n - 1].id : NULL);
}

/* The common prologue of /projects/{id}…: caller, project id, no query. */
static bool h_projects__begin(http_request *r, const principal **p, const char **id)
{
    return (*p = api_auth(r)) != NULL && (*id = api_uuid_param(r, "id", "project")) != NULL &&
           api_query_allowed(r, NO_QUERY);
}

static void h_projects__get(http_request *r)
{
    const principal *p;
    const char *id;
    if (!h_projects__begin(r, &p, &id))
        return;
    project pr;
    scene *scenes;
    size_t n;
    error e;
    if (project_service_get(api_conn(r), http_arena(r), p, id, &pr, &scenes, &n, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_json j;
    http_json_begin(&j);
    jw_obj_begin(&j.w);
    h_projects_members_write(&j.w, &pr);
    jw_key(&j.w, "scenes");
    h_projects__scenes_write(&j.w, scenes, n);
    jw_obj_end(&j.w);
    http_reply_written(r, 200, &j);
}

static void h_projects__update(http_request *r)
{
    const principal *p;
    const char *id;
    if (!h_projects__begin(r, &p, &id))
        return;
    json_t *in = api_body(r, &project_row, API_UPDATE, p);
    if (in == NULL)
        return;
    project_input pi;
    h_projects__input(r, in, &pi);
    project pr;
    error e;
    if (project_service_update(api_conn(r), http_arena(r), p, id, &pi, &pr, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    h_projects__reply(r, 200, &pr);
}

static void h_projects__delete(http_request *r)
{
    const principal *p;
    const char *id;
    if (!h_projects__begin(r, &p, &id))
        return;
    error e;
    if (project_service_delete(api_services(r), api_conn(r), p, id, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_reply(r, 204, NULL, NULL, 0);
}

/* ---- scenes --------------------------------------------------------------- */

static void h_projects__scenes(http_request *r)
{
    const principal *p;
    const char *id;
    if (!h_projects__begin(r, &p, &id))
        return;
    scene *rows;
    size_t n;
    error e;
    if (project_service_scenes(api_conn(r), http_arena(r), p, id, &rows, &n, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    h_projects__scenes_reply(r, rows, n);
}

static void h_projects__scene_input(json_t *in, scene_input *si)
{
    si->narration = h_projects__opt(in, "narration", NULL);
    si->visual_description = h_projects__opt(in, "visual_description", NULL);
    json_t *pos = json_object_get(in, "position");
    si->position = json_is_integer(pos) ? (int)json_integer_value(pos) : -1;
}

static void h_projects__scene_add(http_request *r)
{
    const principal *p;
    const char *id;
    if (!h_projects__begin(r, &p, &id))
        return;
    json_t *in = api_body(r, &scene_row, API_CREATE, p);
    if (in == NULL)
        return;
    scene_input si;
    h_projects__scene_input(in, &si);
    scene sc;
    error e;
    if (project_service_scene_add(api_conn(r), http_arena(r), p, id, &si, &sc, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_set_header(r, "Location",
                    arena_sprintf(http_arena(r), "/api/v1/projects/%s/scenes/%s", id, sc.id));
    h_projects__scene_reply(r, 201, &sc);
}

static void h_projects__scene_update(http_request *r)
{
    const principal *p;
    const char *id, *scene_id;
    if (!h_projects__begin(r, &p, &id) || !(scene_id = api_uuid_param(r, "scene_id", "scene")))
        return;
    json_t *in = api_body(r, &scene_row, API_UPDATE, p);
    if (in == NULL)
        return;
    scene_input si;
    h_projects__scene_input(in, &si);
    scene sc;
    error e;
    if (project_service_scene_update(api_conn(r), http_arena(r), p, id, scene_id, &si, &sc, &e) !=
        0) {
        http_reply_error(r, &e);
        return;
    }
    h_projects__scene_reply(r, 200, &sc);
}

static void h_projects__scene_delete(http_request *r)
{
    const principal *p;
    const char *id, *scene_id;
    if (!h_projects__begin(r, &p, &id) || !(scene_id = api_uuid_param(r, "scene_id", "scene")))
        return;
    error e;
    if (project_service_scene_delete(api_services(r), api_conn(r), p, id, scene_id, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_reply(r, 204, NULL, NULL, 0);
}

static void h_projects__scene_reorder(http_request *r)
{
    const principal *p;
    const char *id;
    if (!h_projects__begin(r, &p, &id))
        return;
    json_t *in = api_body(r, &REORDER, API_CREATE, p);
    if (in == NULL)
        return;
    size_t nids;
    const char *const *ids = h_projects__strings(r, json_object_get(in, "scene_ids"), &nids, true);
    scene *rows;
    size_t n;
    error e;
    if (project_service_scene_reorder(api_conn(r), http_arena(r), p, id, ids, nids, &rows, &n,
                                      &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    h_projects__scenes_reply(r, rows, n);
}

static const char *const ANALYTICS_QUERY[] = {"from", "to", "period", NULL};

/* The project's video by day (decision 141): the rows the daily job stored
 * for its published video, with the persona that wrote it. */
static void h_projects__analytics(http_request *r)
{
    const principal *p;
    const char *id;
    if (!(p = api_auth(r)) || !(id = api_uuid_param(r, "id", "project")) ||
        !api_query_allowed(r, ANALYTICS_QUERY))
        return;
    analytics_video_read rd;
    error e;
    if (analytics_service_read_video(api_conn(r), http_arena(r), p, id, http_query(r, "period"),
                                     http_query(r, "from"), http_query(r, "to"), &rd, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_json j;
    http_json_begin(&j);
    jw_obj_begin(&j.w);
    jw_member_str(&j.w, "project_id", id);
    jw_key(&j.w, "youtube_video_id");
    if (rd.youtube_video_id != NULL)
        jw_str(&j.w, rd.youtube_video_id);
    else
        jw_null(&j.w);
    api_days_begin(&j, ANALYTICS_DAY, rd.from, rd.to);
    for (size_t i = 0; i < rd.n; i++)
        row_json_write(&j.w, &video_day_row_spec, &rd.rows[i]);
    api_days_end(r, &j);
}

const http_route projects_routes[] = {
    {"POST", "/api/v1/projects", h_projects__create, "projects.create"},
    {"GET", "/api/v1/projects", h_projects__list, "projects.list"},
    {"GET", "/api/v1/projects/{id}", h_projects__get, "projects.get"},
    {"PATCH", "/api/v1/projects/{id}", h_projects__update, "projects.update"},
    {"DELETE", "/api/v1/projects/{id}", h_projects__delete, "projects.delete"},
    {"GET", "/api/v1/projects/{id}/analytics", h_projects__analytics, "projects.analytics"},
    {"GET", "/api/v1/projects/{id}/scenes", h_projects__scenes, "scenes.list"},
    {"POST", "/api/v1/projects/{id}/scenes", h_projects__scene_add, "scenes.create"},
    {"POST", "/api/v1/projects/{id}/scenes/reorder", h_projects__scene_reorder, "scenes.reorder"},
    {"PATCH", "/api/v1/projects/{id}/scenes/{scene_id}", h_projects__scene_update, "scenes.update"},
    {"DELETE", "/api/v1/projects/{id}/scenes/{scene_id}", h_projects__scene_delete,
     "scenes.delete"},
};
const size_t projects_routes_count = sizeof(projects_routes) / sizeof(projects_routes[0]);
