#include "services/persona_service.h"

#include "base/timeutil.h"
#include "domain/channel_store.h"
#include "domain/plan_store.h"
#include "domain/user_store.h"
#include "services/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool persona_service_is_locked(const persona *p, const principal *who)
{
    return p->required_rank > who->plan_rank;
}

static bool persona__owned_by(const persona *p, const principal *who)
{
    return p->owner_id[0] && strcmp(p->owner_id, who->user_id) == 0;
}

bool persona_service_can_read_content(const persona *p, const principal *who)
{
    return !persona_service_is_locked(p, who) || who->is_admin || persona__owned_by(p, who);
}

static bool persona__is_system(const persona *p)
{
    return strcmp(p->type, "SYSTEM") == 0;
}

static int persona__content_gate(const persona *p, const principal *who, error *err)
{
    if (persona_service_can_read_content(p, who))
        return 0;
    return error_set(err, ERR_PLAN_REQUIRED, "required_plan",
                     "persona %s needs the '%s' plan and yours is '%s'; upgrade to use it", p->id,
                     p->required_plan, who->plan_code);
}

static const char *persona__string(const json_t *fields, const char *name)
{
    return json_string_value(json_object_get(fields, name));
}

/* ---- reads ------------------------------------------------------------------ */

int persona_service_get_visible(db_conn *c, arena *a, const principal *p, const char *id,
                                persona *out, error *err)
{
    error e;
    if (persona_store_get_visible(c, a, id, p->user_id, out, &e) == 0)
        return 0;
    /* An archived persona stays readable, with its history, to whoever could
     * still write it: its owner, or an admin for a SYSTEM one. */
    if (e.kind == ERR_NOT_FOUND &&
        persona_store_get_writable(c, a, id, p->user_id, out, NULL) == 0 && out->archived_at != 0 &&
        (!persona__is_system(out) || p->is_admin))
        return 0;
    if (err != NULL)
        *err = e;
    return -1;
}

int persona_service_list(db_conn *c, const principal *who, const persona_filter *f,
                         const char *cursor, int limit, persona_visit_fn fn, void *ctx, error *err)
{
    return persona_store_list(c, who->user_id, f, cursor, limit, fn, ctx, err);
}

int persona_service_history(db_conn *c, arena *a, const principal *who, const char *id,
                            int64_t before, int limit, persona_revision_visit_fn fn, void *ctx,
                            error *err)
{
    persona p;
    if (persona_service_get_visible(c, a, who, id, &p, err) != 0)
        return -1;
    return persona_store_history_list(c, id, who->user_id, before, limit, fn, ctx, err);
}

/* The visible persona, refused when its content is withheld from the caller. */
static int persona__readable(db_conn *c, arena *a, const principal *who, const char *id, persona *p,
                             error *err)
{
    if (persona_service_get_visible(c, a, who, id, p, err) != 0)
        return -1;
    return persona__content_gate(p, who, err);
}

int persona_service_revision(db_conn *c, arena *a, const principal *who, const char *id,
                             int64_t version, persona_revision *rev, json_t **snapshot, error *err)
{
    persona p;
    if (persona__readable(c, a, who, id, &p, err) != 0)
        return -1;
    return persona_store_history_get(c, a, id, who->user_id, version, rev, snapshot, err);
}

/* Version `version` of a persona, parsed back into a struct. */
static int persona__version(db_conn *c, arena *a, const principal *who, const char *id,
                            int64_t version, persona *out, error *err)
{
    persona_revision rev;
    json_t *snap = NULL;
    if (persona_store_history_get(c, a, id, who->user_id, version, &rev, &snap, err) != 0)
        return -1;
    int rc = persona_store_from_json(snap, a, out, err);
    json_decref(snap);
    return rc;
}

int persona_service_diff(db_conn *c, arena *a, const principal *who, const char *id, int64_t from,
                         int64_t to, json_t **changes, error *err)
{
    persona older, newer;
    if (persona__readable(c, a, who, id, &older, err) != 0 ||
        persona__version(c, a, who, id, from, &older, err) != 0 ||
        persona__version(c, a, who, id, to, &newer, err) != 0)
        return -1;
    *changes = json_array();
    row_diff(&persona_row, &older, &newer, PERSONA_CONTENT, *changes);
    return 0;
}

int persona_service_export(db_conn *c, arena *a, const principal *who, const char *id, persona *out,
                           error *err)
{
    return persona__readable(c, a, who, id, out, err);
}

/* ---- writes ------------------------------------------------------------------ */

/* required_plan must name a plan; the foreign key would say so too, but not
 * in words a user can act on. */
/* Checks that p's required_plan is a plan, and fills in its rank. */
static int persona__check_plan(db_conn *c, persona *p, error *err)
{
    error e = {0};
    if (plan_store_rank_by_code(c, p->required_plan, &p->required_rank, &e) == 0)
        return 0;
    if (e.kind != ERR_NOT_FOUND) {
        *err = e;
        return -1;
    }
    return error_set(err, ERR_INVALID, "required_plan",
                     "required_plan '%s' is not a plan code (the plans are listed by the plan "
                     "endpoints, e.g. free, creator, pro)",
                     p->required_plan);
}

/* Only admins may decide that a persona is SYSTEM or official (the ROW_ADMIN
 * columns). The API layer refuses these fields first; this holds for every
 * other caller too. */
static int persona__admin_fields(const principal *who, const json_t *fields, error *err)
{
    for (size_t i = 0; i < persona_row.ncols && !who->is_admin; i++) {
        const char *name = persona_row.cols[i].name;
        if ((persona_row.cols[i].flags & ROW_ADMIN) && json_object_get(fields, name) != NULL)
            return error_set(err, ERR_INVALID, name, "only an admin may set %s", name);
    }
    return 0;
}

typedef struct persona__new {
    arena *a;
    const principal *who;
    persona *p;
    const char *reason;
} persona__new;

static int persona__insert_body(db_conn *c, void *arg, error *err)
{
    persona__new *n = arg;
    if (persona__check_plan(c, n->p, err) != 0 || persona_store_insert(c, n->p, err) != 0 ||
        persona_store_history_insert(c, n->p, n->who->user_id, n->reason, err) != 0 ||
        persona_store_get_writable(c, n->a, n->p->id, n->who->user_id, n->p, err) != 0)
        return -1;
    return 0;
}

/* Inserts version 1 of p and its history row in one transaction, then reads
 * it back into p (for the plan rank). */
static int persona__insert(db_conn *c, arena *a, const principal *who, persona *p,
                           const char *reason, error *err)
{
    uuid_v7(p->id);
    p->version = 1;
    p->created_at = p->updated_at = time_now_usec();
    if (persona_store_check(p, err) != 0)
        return -1;
    persona__new n = {a, who, p, reason};
    return db_tx(c, persona__insert_body, &n, err);
}

int persona_service_create(db_conn *c, arena *a, const principal *who, const json_t *fields,
                           persona *out, error *err)
{
    if (persona__admin_fields(who, fields, err) != 0)
        return -1;
    persona_store_defaults(out);
    const char *type = persona__string(fields, "type");
    if (type != NULL && strcmp(type, "SYSTEM") == 0) {
        out->type = "SYSTEM";
        /* SYSTEM personas are shown to everyone whatever their visibility. */
        out->visibility = "PUBLIC";
    } else if (type != NULL && strcmp(type, "CUSTOM") != 0) {
        return error_set(err, ERR_INVALID, "type", "type must be SYSTEM or CUSTOM");
    } else {
        snprintf(out->owner_id, sizeof(out->owner_id), "%s", who->user_id);
    }
    if (row_from_json(&persona_row, out, fields, PERSONA_CONTENT, a, err) != 0)
        return -1;
    const char *reason = persona__string(fields, "change_reason");
    return persona__insert(c, a, who, out, reason ? reason : "created", err);
}

/* The first fault of a preset against persona_preset_row: only "format"
 * and the preset columns, within their limits. */
static int persona__check_preset(const json_t *preset, error *err)
{
    json_t *faults = json_array();
    if (row_check_body(&persona_preset_row, preset, ROW_MODE_CREATE, false, faults) != 0) {
        const json_t *first = json_array_get(faults, 0);
        const char *field = json_string_value(json_object_get(first, "field"));
        error_set(err, ERR_INVALID, field, "%s %s (a %s preset)", field,
                  json_string_value(json_object_get(first, "message")), PERSONA_PRESET_FORMAT);
        json_decref(faults);
        return -1;
    }
    json_decref(faults);
    return 0;
}

int persona_service_import(db_conn *c, arena *a, const principal *who, const json_t *preset,
                           persona *out, error *err)
{
    if (!json_is_object(preset))
        return error_set(err, ERR_INVALID, NULL, "a persona preset must be a JSON object");
    if (persona__check_preset(preset, err) != 0)
        return -1;
    const char *format = persona__string(preset, "format");
    if (format == NULL || strcmp(format, PERSONA_PRESET_FORMAT) != 0)
        return error_set(err, ERR_INVALID, "format", "format must be \"%s\"",
                         PERSONA_PRESET_FORMAT);
    persona_store_defaults(out);
    snprintf(out->owner_id, sizeof(out->owner_id), "%s", who->user_id);
    if (row_from_json(&persona_row, out, preset, PERSONA_PRESET, a, err) != 0)
        return -1;
    /* Importing someone's preset never publishes it: that takes an explicit edit. */
    out->visibility = "PRIVATE";
    return persona__insert(c, a, who, out, "imported", err);
}

/*
 * The start of every write: the row the caller may write, inside the
 * transaction already begun, checked against the role and If-Match.
 */
static int persona__open_for_write(db_conn *c, arena *a, const principal *who, const char *id,
                                   int64_t if_match, persona *cur, error *err)
{
    if (persona_store_get_writable(c, a, id, who->user_id, cur, err) != 0)
        return -1;
    if (persona__is_system(cur) && !who->is_admin)
        return error_set(err, ERR_FORBIDDEN, NULL,
                         "persona %s is a SYSTEM persona; only an admin may change it", id);
    if (if_match >= 0 && if_match != cur->version)
        return error_set(err, ERR_PRECONDITION, NULL,
                         "persona %s is at version %lld, not %lld (If-Match); read it again and "
                         "retry",
                         id, (long long)cur->version, (long long)if_match);
    return 0;
}

/* An archived persona is a record now: it cannot change. */
static int persona__live(const persona *cur, error *err)
{
    if (cur->archived_at == 0)
        return 0;
    return error_set(err, ERR_CONFLICT, NULL,
                     "persona %s was deleted; it is kept, unchangeable, because projects or "
                     "usage records name it. Create a new persona instead (export this one and "
                     "import the preset to start from its content)",
                     cur->id);
}

/* Writes next as version cur->version + 1 with its history row; the caller
 * holds the transaction. next is read back afterwards (for the plan rank). */
static int persona__write_version(db_conn *c, const principal *who, const persona *cur,
                                  persona *next, const char *reason, error *err)
{
    if (persona_store_check(next, err) != 0 || persona__check_plan(c, next, err) != 0)
        return -1;
    next->version = cur->version + 1;
    next->updated_at = time_now_usec();
    /* next now holds exactly the row written (the rank came with the plan
     * check), so it is the answer without reading the row back. */
    if (persona_store_update(c, next, cur->version, who->user_id, err) != 0 ||
        persona_store_history_insert(c, next, who->user_id, reason, err) != 0)
        return -1;
    return 0;
}

/* The arguments of one update, restore or delete: the body of its write
 * transaction (db_tx). */
typedef struct persona__change {
    arena *a;
    const principal *who;
    const char *id;
    int64_t if_match;
    const json_t *fields; /* update */
    int64_t version;      /* restore */
    const char *reason;   /* restore */
    persona *out;
} persona__change;

static int persona__update_body(db_conn *c, void *arg, error *err)
{
    persona__change *ch = arg;
    persona cur;
    int rc = persona__open_for_write(c, ch->a, ch->who, ch->id, ch->if_match, &cur, err);
    if (rc == 0)
        rc = persona__live(&cur, err);
    if (rc == 0) {
        *ch->out = cur;
        rc = row_from_json(&persona_row, ch->out, ch->fields, PERSONA_CONTENT, ch->a, err);
    }
    /* Nothing changes, so no new version: readers keep their ETag. */
    if (rc == 0 && row_diff(&persona_row, &cur, ch->out, PERSONA_CONTENT, NULL) != 0)
        rc = persona__write_version(c, ch->who, &cur, ch->out,
                                    persona__string(ch->fields, "change_reason"), err);
    return rc;
}

int persona_service_update(db_conn *c, arena *a, const principal *who, const char *id,
                           const json_t *fields, int64_t if_match, persona *out, error *err)
{
    if (persona__admin_fields(who, fields, err) != 0)
        return -1;
    if (json_object_get(fields, "type") != NULL)
        return error_set(err, ERR_INVALID, "type", "type cannot be changed after creation");
    persona__change ch = {
        .a = a, .who = who, .id = id, .if_match = if_match, .fields = fields, .out = out};
    return db_tx(c, persona__update_body, &ch, err);
}

/* A persona's restore or delete on its owner's trail (a SYSTEM persona's is
 * nobody's: an administrator's act on the shared library). */
static int persona__event(db_conn *c, const principal *who, const char *action, const persona *cur,
                          json_t *detail, error *err)
{
    const char *owner = cur->owner_id[0] ? cur->owner_id : NULL;
    return audit_record(
        c,
        &(audit_entry){.action = action,
                       .by = who,
                       .as_admin = owner == NULL || strcmp(owner, who->user_id) != 0,
                       .subject = owner,
                       .object_type = "persona",
                       .object_id = cur->id,
                       .detail = detail},
        err);
}

static int persona__restore_body(db_conn *c, void *arg, error *err)
{
    persona__change *ch = arg;
    persona cur;
    persona_revision rev;
    json_t *snap = NULL;
    char why[64];
    int rc = persona__open_for_write(c, ch->a, ch->who, ch->id, ch->if_match, &cur, err);
    if (rc == 0)
        rc = persona__live(&cur, err);
    if (rc == 0 && persona_store_history_get(c, ch->a, ch->id, ch->who->user_id, ch->version, &rev,
                                             &snap, err) != 0) {
        if (err != NULL && err->kind == ERR_NOT_FOUND)
            error_set(err, ERR_INVALID, "version", "persona %s has no version %lld to restore",
                      ch->id, (long long)ch->version);
        rc = -1;
    }
    if (rc == 0) {
        *ch->out = cur;
        rc = row_from_json(&persona_row, ch->out, snap, PERSONA_CONTENT, ch->a, err);
    }
    if (rc == 0) {
        snprintf(why, sizeof(why), "restored from version %lld", (long long)ch->version);
        rc = persona__write_version(c, ch->who, &cur, ch->out, ch->reason ? ch->reason : why, err);
    }
    json_decref(snap);
    if (rc == 0)
        rc = persona__event(c, ch->who, "persona.restored", &cur,
                            json_pack("{s:o,s:I,s:I}", "name", audit_text(cur.name), "from_version",
                                      (json_int_t)ch->version, "new_version",
                                      (json_int_t)ch->out->version),
                            err);
    return rc;
}

int persona_service_restore(db_conn *c, arena *a, const principal *who, const char *id,
                            int64_t version, const char *reason, int64_t if_match, persona *out,
                            error *err)
{
    persona__change ch = {.a = a,
                          .who = who,
                          .id = id,
                          .if_match = if_match,
                          .version = version,
                          .reason = reason,
                          .out = out};
    return db_tx(c, persona__restore_body, &ch, err);
}

/* Archives cur and lets the channels that use it go, each with a row in its
 * assignment log, so the days after it are attributed to no persona (the
 * performance figures and the optimizer read the log, not the channel). */
static int persona__archive(db_conn *c, arena *a, const principal *who, const persona *cur,
                            error *err)
{
    channel_ref *chans = NULL;
    size_t n = 0;
    int64_t now = time_now_usec();
    if (channel_store_using_persona(c, a, cur->id, &chans, &n, err) != 0 ||
        persona_store_archive(c, cur->id, cur->version, who->user_id, now, err) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        channel_assignment as = {.previous_persona_id = cur->id,
                                 .assigned_by = who->user_id,
                                 .source = "manual",
                                 .reason = "persona archived",
                                 .created_at = now};
        uuid_v7(as.id);
        memcpy(as.channel_id, chans[i].id, sizeof(as.channel_id));
        memcpy(as.user_id, chans[i].user_id, sizeof(as.user_id));
        if (channel_store_assignment_insert(c, &as, err) != 0 ||
            audit_persona_switch(c, who, &as, err) != 0)
            return -1;
    }
    return 0;
}

static int persona__delete_body(db_conn *c, void *arg, error *err)
{
    persona__change *ch = arg;
    persona cur;
    bool referenced = false;
    int rc = persona__open_for_write(c, ch->a, ch->who, ch->id, ch->if_match, &cur, err);
    if (rc == 0)
        rc = persona_store_is_referenced(c, cur.id, &referenced, err);
    /* Records that name the persona keep it (archived); a persona nothing
     * names goes, history and all. Deleting an archived persona again
     * deletes it once nothing names it any more. The row lock taken above
     * makes a concurrent insert naming it wait (its foreign key check), so
     * no record can appear between the check and the delete. */
    bool archive = referenced && cur.archived_at == 0;
    if (rc == 0 && archive)
        rc = persona__archive(c, ch->a, ch->who, &cur, err);
    else if (rc == 0 && !referenced)
        rc = persona_store_delete(c, ch->id, cur.version, ch->who->user_id, err);
    if (rc != 0 || (referenced && !archive))
        return rc; /* an archived persona still named: nothing changed */
    return persona__event(c, ch->who, "persona.deleted", &cur,
                          json_pack("{s:o,s:b}", "name", audit_text(cur.name), "archived", archive),
                          err);
}

int persona_service_delete(db_conn *c, arena *a, const principal *who, const char *id,
                           int64_t if_match, error *err)
{
    persona__change ch = {.a = a, .who = who, .id = id, .if_match = if_match};
    return db_tx(c, persona__delete_body, &ch, err);
}
