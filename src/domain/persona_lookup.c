#include "domain/persona_lookup.h"

#include <stdio.h>
#include <string.h>

static db_sql Q_VISIBLE =
    DB_SQL("SELECT p.id, p.name, p.version, p.required_plan, pl.rank FROM personas p "
           "JOIN plans pl ON pl.code = p.required_plan "
           "WHERE p.id = $1 AND (p.type = 'SYSTEM' OR p.owner_id = $2 OR p.visibility = 'PUBLIC') "
           "AND p.archived_at IS NULL");
static db_sql Q_PLAN_DEFAULT = DB_SQL("SELECT default_persona_id FROM plans WHERE id = $1");

int persona_lookup_visible(db_conn *c, const char *user_id, const char *persona_id,
                           persona_lookup_row *out, bool *found, error *err)
{
    *found = false;
    /* PostgreSQL would reject a malformed uuid as a query error; it simply
     * names no persona. */
    if (persona_id == NULL || !uuid_is_valid(persona_id))
        return 0;
    db_error de;
    db_stmt *s = db_prepare(c, &Q_VISIBLE, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, persona_id);
    db_bind_text(s, 2, user_id);
    int rc = db_step(s, &de);
    if (rc == DB_ROW) {
        memset(out, 0, sizeof(*out));
        snprintf(out->id, sizeof(out->id), "%s", db_col_text(s, 0));
        snprintf(out->name, sizeof(out->name), "%s", db_col_text(s, 1));
        out->version = (int)db_col_int64(s, 2);
        snprintf(out->required_plan, sizeof(out->required_plan), "%s", db_col_text(s, 3));
        out->required_rank = (int)db_col_int64(s, 4);
        *found = true;
    }
    db_reset(s);
    if (rc == DB_ERR)
        return db_to_error(err, &de, NULL);
    return 0;
}

int persona_lookup_plan_default(db_conn *c, const char *plan_id, char id_out[UUID_STR_LEN + 1],
                                error *err)
{
    id_out[0] = '\0';
    db_error de;
    db_stmt *s = db_prepare(c, &Q_PLAN_DEFAULT, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, plan_id);
    int rc = db_step(s, &de);
    if (rc == DB_ROW && !db_col_is_null(s, 0))
        snprintf(id_out, UUID_STR_LEN + 1, "%s", db_col_text(s, 0));
    db_reset(s);
    if (rc == DB_ERR)
        return db_to_error(err, &de, NULL);
    if (rc == DB_DONE)
        return error_set(err, ERR_NOT_FOUND, "plan", "your plan no longer exists; ask an admin");
    return 0;
}
