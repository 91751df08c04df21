#include "services/channel_service.h"

#include "base/text.h"
#include "base/timeutil.h"
#include "domain/limits.h"
#include "services/audit.h"
#include "services/persona_access.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* YouTube channel ids are "UC" plus 22 base64url characters today; we accept
 * the alphabet, not the shape, so handles and test ids fit too. */
static int channel__check_youtube_id(const char *v, error *err)
{
    if (v == NULL)
        return error_set(err, ERR_INVALID, "youtube_channel_id", "youtube_channel_id is required");
    channel row = {.youtube_channel_id = v};
    if (row_check(&channel_row, &row, "youtube_channel_id", err) != 0)
        return -1;
    for (size_t i = 0; v[i] != '\0'; i++) {
        char ch = v[i];
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                  (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
        if (!ok)
            return error_set(err, ERR_INVALID, "youtube_channel_id",
                             "youtube_channel_id may hold only letters, digits, '_' and '-'");
    }
    return 0;
}

/* An absolute http(s) URL of printable ASCII with a host: what a browser can
 * load as an image without surprises. */
static int channel__check_thumbnail(const char *v, error *err)
{
    if (v == NULL)
        return 0;
    channel ch = {.thumbnail = v};
    if (row_check(&channel_row, &ch, "thumbnail", err) != 0)
        return -1;
    size_t n = strlen(v);
    size_t scheme = strncasecmp(v, "https://", 8) == 0  ? 8
                    : strncasecmp(v, "http://", 7) == 0 ? 7
                                                        : 0;
    if (scheme == 0 || n == scheme || v[scheme] == '/')
        return error_set(err, ERR_INVALID, "thumbnail",
                         "thumbnail must be an http:// or https:// URL with a host");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7F)
            return error_set(err, ERR_INVALID, "thumbnail",
                             "thumbnail must not contain spaces, control or non-ASCII characters "
                             "(percent-encode them)");
    return 0;
}

static int channel__check_reason(const channel_input *in, error *err)
{
    if (in->assignment_reason == NULL)
        return 0;
    if (!in->set_persona)
        return error_set(err, ERR_INVALID, "assignment_reason",
                         "assignment_reason only goes with persona_id in the same request");
    channel_assignment as = {.reason = in->assignment_reason};
    error bad;
    if (row_check(&channel_assignment_row, &as, "reason", &bad) != 0)
        return error_set(err, ERR_INVALID, "assignment_reason", "assignment_%s", bad.message);
    return 0;
}

/* auto_optimize is optimization_mode's legacy alias: both in one request
 * must agree. The values themselves were checked against the row spec. */
static int channel__check_mode(const channel_input *in, error *err)
{
    if (in->optimization_mode == NULL || !in->set_auto_optimize)
        return 0;
    if (in->auto_optimize != (strcmp(in->optimization_mode, "auto") == 0))
        return error_set(err, ERR_INVALID, "auto_optimize",
                         "auto_optimize is the old name of optimization_mode = auto; send "
                         "optimization_mode alone");
    return 0;
}

/* A create or an update of one channel, as one write transaction (db_tx). */
typedef struct channel__edit {
    arena *a;
    const principal *p;
    const char *id; /* NULL: create */
    const channel_input *in;
    channel *out;
} channel__edit;

/* Logs the move of ch from previous to ch->persona_id, by the caller. */
static int channel__log_assignment(db_conn *c, const principal *p, const channel *ch,
                                   const char *previous, int version, const char *reason,
                                   error *err)
{
    channel_assignment as = {0};
    uuid_v7(as.id);
    snprintf(as.channel_id, sizeof(as.channel_id), "%s", ch->id);
    snprintf(as.user_id, sizeof(as.user_id), "%s", ch->user_id);
    as.persona_id = ch->persona_id;
    as.persona_version = version;
    as.previous_persona_id = previous;
    as.assigned_by = p->user_id;
    as.source = "manual";
    as.reason = reason;
    as.created_at = ch->updated_at;
    if (channel_store_assignment_insert(c, &as, err) != 0)
        return -1;
    return audit_persona_switch(c, p, &as, err);
}

/* Checks that `adding` more channels fit the plan; call with the quota lock held. */
static int channel__check_limit(db_conn *c, const principal *p, int64_t adding, error *err)
{
    if (p->max_channels < 0 || adding <= 0)
        return 0;
    int64_t have = 0;
    if (channel_store_count(c, p->user_id, &have, err) != 0)
        return -1;
    if (have + adding <= p->max_channels)
        return 0;
    if (adding == 1)
        return error_set(err, ERR_PLAN_LIMIT, "max_channels",
                         "your plan '%s' allows at most %d channel%s and you have %lld; "
                         "delete one or upgrade your plan",
                         p->plan_code, p->max_channels, p->max_channels == 1 ? "" : "s",
                         (long long)have);
    return error_set(err, ERR_PLAN_LIMIT, "max_channels",
                     "your plan '%s' allows at most %d channel%s; you have %lld and this would "
                     "add %lld; import fewer, delete some or upgrade your plan",
                     p->plan_code, p->max_channels, p->max_channels == 1 ? "" : "s",
                     (long long)have, (long long)adding);
}

static int channel__create_in_tx(db_conn *c, const principal *p, const channel_input *in,
                                 channel *ch, error *err)
{
    if (channel_store_lock_quota(c, p->user_id, err) != 0 ||
        channel__check_limit(c, p, 1, err) != 0)
        return -1;
    int version = 0;
    if (ch->persona_id != NULL &&
        persona_access_check_choice(c, p, ch->persona_id, &version, err) != 0)
        return -1;
    if (channel_store_insert(c, ch, err) != 0)
        return -1;
    if (ch->persona_id != NULL &&
        channel__log_assignment(c, p, ch, NULL, version, in->assignment_reason, err) != 0)
        return -1;
    return 0;
}

static int channel__create_body(db_conn *c, void *arg, error *err)
{
    channel__edit *e = arg;
    return channel__create_in_tx(c, e->p, e->in, e->out, err);
}

int channel_service_create(db_conn *c, arena *a, const principal *p, const channel_input *in,
                           channel *out, error *err)
{
    channel ch = {0};
    ch.youtube_channel_id = in->youtube_channel_id;
    ch.name = in->name;
    ch.thumbnail = in->set_thumbnail ? in->thumbnail : NULL;
    if (channel__check_youtube_id(ch.youtube_channel_id, err) != 0 ||
        (ch.name == NULL && error_set(err, ERR_INVALID, "name", "name is required") != 0) ||
        row_check(&channel_row, &ch, "name", err) != 0 ||
        channel__check_thumbnail(ch.thumbnail, err) != 0 || channel__check_reason(in, err) != 0)
        return -1;
    uuid_v7(ch.id);
    snprintf(ch.user_id, sizeof(ch.user_id), "%s", p->user_id);
    ch.persona_id = in->set_persona ? in->persona_id : NULL;
    if (channel__check_mode(in, err) != 0)
        return -1;
    ch.optimization_mode = in->optimization_mode                        ? in->optimization_mode
                           : in->set_auto_optimize && in->auto_optimize ? "auto"
                                                                        : "suggest";
    ch.objective = in->objective ? in->objective : channel_objectives[0];
    ch.auto_optimize = strcmp(ch.optimization_mode, "auto") == 0;
    ch.subscriber_count = ch.view_count = ch.video_count = -1; /* until the first stats sync */
    ch.created_at = ch.updated_at = time_now_usec();

    channel__edit e = {NULL, p, NULL, in, &ch};
    if (db_tx(c, channel__create_body, &e, err) != 0)
        return -1;
    *out = ch;
    return 0;
}

int channel_service_get(db_conn *c, arena *a, const principal *p, const char *id, channel *out,
                        error *err)
{
    return channel_store_get(c, a, p->user_id, id, false, NULL, out, err);
}

int channel_service_list(db_conn *c, arena *a, const principal *p, const char *persona_id,
                         const char *cursor, int limit, channel **out, size_t *n, error *err)
{
    return channel_store_list(c, a, p->user_id, persona_id, cursor, limit, out, n, err);
}

static bool channel__same(const char *x, const char *y)
{
    return (x == NULL && y == NULL) || (x != NULL && y != NULL && strcmp(x, y) == 0);
}

static int channel__update_in_tx(db_conn *c, arena *a, const principal *p, const char *id,
                                 const channel_input *in, channel *out, error *err)
{
    channel ch;
    if (channel_store_get(c, a, p->user_id, id, true, NULL, &ch, err) != 0)
        return -1;
    const char *previous = ch.persona_id;
    bool persona_changes = in->set_persona && !channel__same(previous, in->persona_id);
    int version = 0;
    if (persona_changes && in->persona_id != NULL &&
        persona_access_check_choice(c, p, in->persona_id, &version, err) != 0)
        return -1;
    if (in->name != NULL)
        ch.name = in->name;
    if (in->set_thumbnail)
        ch.thumbnail = in->thumbnail;
    if (in->set_persona)
        ch.persona_id = in->persona_id;
    if (in->set_auto_optimize && !in->auto_optimize && strcmp(ch.optimization_mode, "auto") == 0)
        ch.optimization_mode = "suggest";
    else if (in->set_auto_optimize && in->auto_optimize)
        ch.optimization_mode = "auto";
    if (in->optimization_mode != NULL) {
        ch.optimization_mode = in->optimization_mode;
        ch.optimizer_paused_at = 0; /* the user set the mode again: a revert's pause ends */
    } else if (in->set_auto_optimize && in->auto_optimize)
        ch.optimizer_paused_at = 0;
    if (in->objective != NULL)
        ch.objective = in->objective;
    ch.auto_optimize = strcmp(ch.optimization_mode, "auto") == 0;
    ch.updated_at = time_now_usec();
    if (channel_store_update(c, &ch, err) != 0)
        return -1;
    if (persona_changes &&
        channel__log_assignment(c, p, &ch, previous, version, in->assignment_reason, err) != 0)
        return -1;
    *out = ch;
    return 0;
}

static int channel__update_body(db_conn *c, void *arg, error *err)
{
    channel__edit *e = arg;
    return channel__update_in_tx(c, e->a, e->p, e->id, e->in, e->out, err);
}

int channel_service_update(db_conn *c, arena *a, const principal *p, const char *id,
                           const channel_input *in, channel *out, error *err)
{
    channel named = {.name = in->name};
    if (row_check(&channel_row, &named, "name", err) != 0 ||
        (in->set_thumbnail && channel__check_thumbnail(in->thumbnail, err) != 0) ||
        channel__check_reason(in, err) != 0 || channel__check_mode(in, err) != 0)
        return -1;
    /* A malformed id names no channel; do not let it reach a uuid column. */
    if (id == NULL || !uuid_is_valid(id))
        return error_set(err, ERR_NOT_FOUND, NULL, "no channel with id %s", id ? id : "(none)");
    channel__edit e = {a, p, id, in, out};
    return db_tx(c, channel__update_body, &e, err);
}

int channel_service_delete(db_conn *c, const principal *p, const char *id, error *err)
{
    if (id == NULL || !uuid_is_valid(id))
        return error_set(err, ERR_NOT_FOUND, NULL, "no channel with id %s", id ? id : "(none)");
    return channel_store_delete(c, p->user_id, id, err);
}

/* A YouTube title as a channel name: cut to the name's limit on a character
 * boundary; an empty one becomes the channel id. */
static const char *channel__import_name(arena *a, const channel_import_item *it)
{
    const char *name = it->name && *it->name ? it->name : it->youtube_channel_id;
    if (utf8_chars(name) <= CHANNEL_NAME_MAX)
        return name;
    return arena_strndup(a, name, utf8_prefix(name, CHANNEL_NAME_MAX));
}

int channel_service_import_in_tx(db_conn *c, arena *a, const principal *p, const char *account_id,
                                 const channel_import_item *items, size_t n, channel *out,
                                 size_t *created, error *err)
{
    *created = 0;
    for (size_t i = 0; i < n; i++)
        if (channel__check_youtube_id(items[i].youtube_channel_id, err) != 0)
            return -1;
    if (channel_store_lock_quota(c, p->user_id, err) != 0)
        return -1;
    bool *exists = arena_calloc(a, (n ? n : 1) * sizeof(*exists));
    int64_t adding = 0;
    for (size_t i = 0; i < n; i++) {
        channel old;
        error miss;
        int rc =
            channel_store_find_youtube(c, a, p->user_id, items[i].youtube_channel_id, &old, &miss);
        if (rc != 0 && miss.kind != ERR_NOT_FOUND) {
            *err = miss;
            return -1;
        }
        exists[i] = rc == 0;
        if (rc == 0)
            out[i] = old;
        else
            adding++;
    }
    if (channel__check_limit(c, p, adding, err) != 0)
        return -1;
    int64_t now = time_now_usec();
    for (size_t i = 0; i < n; i++) {
        const channel_import_item *it = &items[i];
        channel ch = exists[i] ? out[i] : (channel){0};
        if (!exists[i]) {
            uuid_v7(ch.id);
            snprintf(ch.user_id, sizeof(ch.user_id), "%s", p->user_id);
            ch.created_at = now;
        }
        error bad;
        ch.account_id = arena_strdup(a, account_id); /* outlives the caller's copy */
        ch.youtube_channel_id = it->youtube_channel_id;
        ch.name = channel__import_name(a, it);
        ch.thumbnail = channel__check_thumbnail(it->thumbnail, &bad) == 0 ? it->thumbnail : NULL;
        ch.custom_url = it->custom_url;
        ch.uploads_playlist_id = it->uploads_playlist_id;
        ch.subscriber_count = it->subscriber_count;
        ch.view_count = it->view_count;
        ch.video_count = it->video_count;
        ch.stats_updated_at = ch.updated_at = now;
        int rc = exists[i] ? channel_store_update_import(c, &ch, err)
                           : channel_store_insert(c, &ch, err);
        if (rc != 0)
            return -1;
        out[i] = ch;
        if (!exists[i])
            (*created)++;
    }
    return 0;
}

int channel_service_assignments(db_conn *c, arena *a, const principal *p, const char *id,
                                const char *cursor, int limit, channel_assignment **out, size_t *n,
                                error *err)
{
    channel ch;
    if (channel_store_get(c, a, p->user_id, id, false, NULL, &ch, err) != 0)
        return -1;
    return channel_store_assignment_list(c, a, p->user_id, id, cursor, limit, out, n, err);
}
