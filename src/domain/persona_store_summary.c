#include "domain/persona_store_summary.h"

#include <string.h>

static db_sql Q_VISIBLE =
    DB_SQL("SELECT p.id, p.name, p.version, p.required_plan, pl.rank FROM personas p "
           "JOIN plans pl ON pl.code = p.required_plan "
           "WHERE p.id = $1 AND (p.type = 'SYSTEM' OR p.owner_id = $2 OR p.visibility = 'PUBLIC') "
           "AND p.archived_at IS NULL");

static int persona_summary__row(db_stmt *s, arena *a, void *out, error *err)
{
    (void)a;
    persona_summary *ps = out;
    memset(ps, 0, sizeof(*ps));
    int bad = DB_COL_COPY(s, 0, ps->id) | DB_COL_COPY(s, 1, ps->name) |
              DB_COL_COPY(s, 3, ps->required_plan);
    ps->version = (int)db_col_int64(s, 2);
    ps->required_rank = (int)db_col_int64(s, 4);
    return bad ? db_col_too_long(err, "persona") : 0;
}

int persona_store_summary_visible(db_conn *c, const char *user_id, const char *persona_id,
                                  persona_summary *out, bool *found, error *err)
{
    *found = false;
    /* PostgreSQL would reject a malformed uuid as a query error; it simply
     * names no persona. */
    if (persona_id == NULL || !uuid_is_valid(persona_id))
        return 0;
    int rc = db_first(c, &Q_VISIBLE, DB_ARGS(DB_TEXT(persona_id), DB_TEXT(user_id)),
                      persona_summary__row, NULL, out, err);
    *found = rc == 1;
    return rc < 0 ? -1 : 0;
}
