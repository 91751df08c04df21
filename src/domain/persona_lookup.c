#include "domain/persona_lookup.h"

#include <stdio.h>
#include <string.h>

static db_sql Q_VISIBLE =
    DB_SQL("SELECT p.id, p.name, p.version, p.required_plan, pl.rank FROM personas p "
           "JOIN plans pl ON pl.code = p.required_plan "
           "WHERE p.id = $1 AND (p.type = 'SYSTEM' OR p.owner_id = $2 OR p.visibility = 'PUBLIC') "
           "AND p.archived_at IS NULL");
static db_sql Q_PLAN_DEFAULT = DB_SQL("SELECT default_persona_id FROM plans WHERE id = $1");
static db_sql Q_USER_PLAN = DB_SQL(
    "SELECT pl.code, pl.rank FROM users u JOIN plans pl ON pl.id = u.plan_id WHERE u.id = $1");

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
    int bad = 0;
    if (rc == DB_ROW) {
        memset(out, 0, sizeof(*out));
        bad = DB_COL_COPY(s, 0, out->id) | DB_COL_COPY(s, 1, out->name) |
              DB_COL_COPY(s, 3, out->required_plan);
        out->version = (int)db_col_int64(s, 2);
        out->required_rank = (int)db_col_int64(s, 4);
        *found = !bad;
    }
    db_reset(s);
    if (rc == DB_ERR)
        return db_to_error(err, &de, NULL);
    return bad ? db_col_too_long(err, "persona") : 0;
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
    int bad = rc == DB_ROW ? db_col_copy(s, 0, id_out, UUID_STR_LEN + 1) : 0;
    db_reset(s);
    if (rc == DB_ERR)
        return db_to_error(err, &de, NULL);
    if (bad)
        return db_col_too_long(err, "default persona id");
    if (rc == DB_DONE)
        return error_set(err, ERR_NOT_FOUND, "plan", "your plan no longer exists; ask an admin");
    return 0;
}

int persona_lookup_user_plan(db_conn *c, const char *user_id, char code_out[33], int *rank_out,
                             error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, &Q_USER_PLAN, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, user_id);
    int rc = db_step(s, &de);
    if (rc == DB_ROW) {
        snprintf(code_out, 33, "%s", db_col_text(s, 0));
        *rank_out = (int)db_col_int64(s, 1);
    }
    db_reset(s);
    if (rc == DB_ERR)
        return db_to_error(err, &de, NULL);
    if (rc == DB_DONE)
        return error_set(err, ERR_NOT_FOUND, "user", "no user with id %s", user_id);
    return 0;
}
