#include "domain/persona_store_summary.h"

#include <string.h>

static db_sql Q_VISIBLE =
    DB_SQL("SELECT p.id, p.name, p.version, p.required_plan, pl.rank FROM personas p "
           "JOIN plans pl ON pl.code = p.required_plan "
           "WHERE p.id = $1 AND (p.type = 'SYSTEM' OR p.owner_id = $2 OR p.visibility = 'PUBLIC') "
           "AND p.archived_at IS NULL");

int persona_store_summary_visible(db_conn *c, const char *user_id, const char *persona_id,
                                  persona_summary *out, bool *found, error *err)
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
