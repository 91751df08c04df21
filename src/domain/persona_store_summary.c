#include "domain/persona_store_summary.h"

static db_sql Q_VISIBLE = DB_SQL(
    "SELECT p.id, p.name, p.version, p.required_plan, pl.rank AS required_rank FROM personas p "
    "JOIN plans pl ON pl.code = p.required_plan "
    "WHERE p.id = $1 AND (p.type = 'SYSTEM' OR p.owner_id = $2 OR p.visibility = 'PUBLIC') "
    "AND p.archived_at IS NULL");

static int persona_summary__row(db_stmt *s, arena *a, void *out, error *err)
{
    return row_read(&persona_row, s, a, out, err);
}

int persona_store_summary_visible(db_conn *c, arena *a, const char *user_id, const char *persona_id,
                                  persona *out, bool *found, error *err)
{
    *found = false;
    /* PostgreSQL would reject a malformed uuid as a query error; it simply
     * names no persona. */
    if (persona_id == NULL || !uuid_is_valid(persona_id))
        return 0;
    int rc = db_first(c, &Q_VISIBLE, DB_ARGS(DB_TEXT(persona_id), DB_TEXT(user_id)),
                      persona_summary__row, a, out, err);
    *found = rc == 1;
    return rc < 0 ? -1 : 0;
}
