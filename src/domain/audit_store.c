#include "domain/audit_store.h"

#include <string.h>

const char *const audit_actor_kinds[] = {"user", "api_key", "admin", "system", "anonymous", NULL};

const char *const audit_actions[] = {
    "auth.signup",
    "auth.login",
    "auth.login_failed",
    "auth.logout",
    "apikey.created",
    "apikey.revoked",
    "google.connected",
    "google.disconnected",
    "token_key.rotated",
    "plan.changed",
    "persona.deleted",
    "persona.restored",
    "channel.persona_switched",
    "admin.user_created",
    "admin.user_updated",
    "admin.plan_created",
    "admin.plan_updated",
    "admin.job_requeued",
    NULL,
};

static const row_col audit__cols[] = {
    ROW_COL(audit_event, id, ROW_CHARS, 0, 0, 0),
    ROW_COL(audit_event, occurred_at, ROW_TIME, 0, 0, 0),
    ROW_ENUM_COL(audit_event, actor_kind, 0, audit_actor_kinds),
    ROW_COL(audit_event, actor_user_id, ROW_UUID, ROW_NULLABLE, 0, 0),
    ROW_COL(audit_event, actor_api_key_id, ROW_UUID, ROW_NULLABLE, 0, 0),
    ROW_COL(audit_event, subject_user_id, ROW_UUID, ROW_NULLABLE, 0, 0),
    ROW_COL(audit_event, action, ROW_TEXT, 0, 3, AUDIT_ACTION_MAX),
    ROW_COL(audit_event, object_type, ROW_TEXT, ROW_NULLABLE, 1, AUDIT_OBJECT_TYPE_MAX),
    ROW_COL(audit_event, object_id, ROW_TEXT, ROW_NULLABLE, 1, AUDIT_OBJECT_ID_MAX),
    ROW_COL(audit_event, client_ip, ROW_TEXT, ROW_NULLABLE, 2, 45),
    ROW_COL(audit_event, detail, ROW_JSON, 0, 0, 0),
};
const row_spec audit_event_row = ROW_SPEC(audit_event, "audit event", audit__cols);

#define AUDIT_INSERT                                                                               \
    "id, actor_kind, actor_user_id, actor_api_key_id, subject_user_id, action, object_type, "      \
    "object_id, client_ip, detail"
#define AUDIT_COLS "id, occurred_at, " AUDIT_INSERT_TAIL
#define AUDIT_INSERT_TAIL                                                                          \
    "actor_kind, actor_user_id, actor_api_key_id, subject_user_id, action, object_type, "          \
    "object_id, client_ip, detail"

static db_sql Q_AUDIT_INSERT = DB_SQL2("INSERT INTO audit_events (" AUDIT_INSERT
                                       ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                                       "INSERT INTO audit_events (" AUDIT_INSERT ") "
                                       "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb)");
/* One statement for both views: a user's trail uses (subject_user_id, id),
 * everyone's the primary key. The prefix is compared with substr, not LIKE,
 * so '_' in it means itself. */
static db_sql Q_AUDIT_LIST =
    DB_SQL2("SELECT " AUDIT_COLS " FROM audit_events "
            "WHERE ($1 IS NULL OR subject_user_id = $1) AND ($2 IS NULL OR id < $2) "
            "AND ($3 IS NULL OR substr(action, 1, length($3)) = $3) "
            "AND ($4 IS NULL OR occurred_at >= $4) AND ($5 IS NULL OR occurred_at < $5) "
            "ORDER BY id DESC LIMIT $6",
            "SELECT " AUDIT_COLS " FROM audit_events "
            "WHERE ($1::uuid IS NULL OR subject_user_id = $1::uuid) AND ($2::uuid IS NULL OR id < "
            "$2::uuid) "
            "AND ($3::text IS NULL OR substr(action, 1, length($3::text)) = $3::text) "
            "AND ($4::timestamptz IS NULL OR occurred_at >= $4::timestamptz) "
            "AND ($5::timestamptz IS NULL OR occurred_at < $5::timestamptz) "
            "ORDER BY id DESC LIMIT $6");
static db_sql Q_AUDIT_PRUNE = DB_SQL("DELETE FROM audit_events WHERE id IN (SELECT id FROM "
                                     "audit_events WHERE occurred_at < $1 "
                                     "ORDER BY occurred_at LIMIT $2)");

static bool audit__in(const char *const *list, const char *v)
{
    for (size_t i = 0; v != NULL && list[i] != NULL; i++)
        if (strcmp(list[i], v) == 0)
            return true;
    return false;
}

bool audit_action_known(const char *action)
{
    return audit__in(audit_actions, action);
}

static int audit__row(db_stmt *s, arena *a, void *out, error *err)
{
    return row_read(&audit_event_row, s, a, out, err);
}

int audit_store_insert(db_conn *c, audit_event *ev, error *err)
{
    if (!audit_action_known(ev->action) || !audit__in(audit_actor_kinds, ev->actor_kind))
        return error_set(
            err, ERR_INTERNAL, NULL, "audit event '%s' by '%s' is not in the vocabulary",
            ev->action ? ev->action : "(null)", ev->actor_kind ? ev->actor_kind : "(null)");
    if (ev->detail == NULL)
        ev->detail = "{}";
    if (strlen(ev->detail) > AUDIT_DETAIL_MAX)
        return error_set(err, ERR_INTERNAL, NULL, "the detail of audit event '%s' is too long",
                         ev->action);
    uuid_v7(ev->id);
    row_argv av;
    return db_write(c, &Q_AUDIT_INSERT, row_args(&audit_event_row, ev, AUDIT_INSERT, NULL, &av),
                    NULL, err) < 0
               ? -1
               : 0;
}

int audit_store_list(db_conn *c, arena *a, const audit_filter *f, int limit, audit_event **out,
                     size_t *n, error *err)
{
    db_arg since = f->since > 0 ? DB_TIME(f->since) : DB_NULL;
    db_arg until = f->until > 0 ? DB_TIME(f->until) : DB_NULL;
    return db_list(c, &Q_AUDIT_LIST,
                   DB_ARGS(DB_TEXT(f->subject_user_id), DB_TEXT(f->cursor),
                           DB_TEXT(f->action_prefix), since, until, DB_INT(limit)),
                   audit__row, a, sizeof(**out), (size_t)(limit > 0 ? limit : 1), out, n, err);
}

int audit_store_prune(db_conn *c, int64_t before, int limit, int64_t *deleted, error *err)
{
    *deleted = db_write(c, &Q_AUDIT_PRUNE, DB_ARGS(DB_TIME(before), DB_INT(limit)), NULL, err);
    if (*deleted >= 0)
        return 0;
    *deleted = 0;
    return -1;
}
