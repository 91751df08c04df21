#include "domain/persona_store_summary.h"

static db_sql Q_VISIBLE = DB_SQL(
    "SELECT p.id, p.name, p.version, p.required_plan, pl.rank AS required_rank FROM personas p "
    "JOIN plans pl ON pl.code = p.required_plan "
    "WHERE p.id = $1 AND (p.type = 'SYSTEM' OR p.owner_id = $2 OR p.visibility = 'PUBLIC') "
    "AND p.archived_at IS NULL");

static db_sql Q_USABLE =
    DB_SQL("SELECT p.id FROM personas p JOIN plans pl ON pl.code = p.required_plan "
           "WHERE (p.type = 'SYSTEM' OR p.owner_id = $1 OR p.visibility = 'PUBLIC') "
           "AND p.archived_at IS NULL AND pl.rank <= $2 ORDER BY p.id LIMIT $3");

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

typedef struct persona_summary__ids {
    char (*ids)[UUID_STR_LEN + 1];
    size_t max, n;
} persona_summary__ids;

static int persona_summary__id_row(db_stmt *s, arena *a, void *out, error *err)
{
    (void)a;
    persona_summary__ids *l = out;
    if (l->n >= l->max)
        return 1;
    if (db_col_copy(s, 0, l->ids[l->n], UUID_STR_LEN + 1) != 0)
        return error_set(err, ERR_INTERNAL, NULL, "a persona id read back is not a UUID");
    l->n++;
    return 0;
}

int persona_store_summary_usable_ids(db_conn *c, const char *user_id, int plan_rank,
                                     char (*ids)[UUID_STR_LEN + 1], size_t max, size_t *n,
                                     error *err)
{
    persona_summary__ids l = {ids, max, 0};
    int rc = db_each(c, &Q_USABLE, DB_ARGS(DB_TEXT(user_id), DB_INT(plan_rank), DB_INT(max)),
                     persona_summary__id_row, NULL, &l, err);
    *n = l.n;
    return rc < 0 ? -1 : 0;
}
