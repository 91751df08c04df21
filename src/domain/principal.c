#include "domain/principal.h"

#include "domain/row.h"

/* Read by the aliases PRINCIPAL_COLS gives; ROW_NULLABLE limits read NULL
 * (unlimited) as -1. */
static const row_col principal__cols[] = {
    ROW_COL(principal, user_id, ROW_CHARS, 0, 0, 0),
    ROW_COL(principal, email, ROW_CHARS, 0, 0, 0),
    ROW_COL(principal, is_admin, ROW_BOOL, 0, 0, 0),
    ROW_COL(principal, plan_id, ROW_CHARS, 0, 0, 0),
    ROW_COL(principal, plan_code, ROW_CHARS, 0, 0, 0),
    ROW_COL(principal, plan_rank, ROW_INT, 0, 0, 0),
    ROW_COL(principal, max_channels, ROW_INT, ROW_NULLABLE, 0, 0),
    ROW_COL(principal, max_projects_per_month, ROW_INT, ROW_NULLABLE, 0, 0),
    ROW_COL(principal, max_generations_per_month, ROW_INT, ROW_NULLABLE, 0, 0),
};
static const row_spec principal__row = ROW_SPEC(principal, "principal", principal__cols);

int principal_read(db_stmt *s, int at, principal *p)
{
    error e;
    return row_read_at(&principal__row, s, at, PRINCIPAL_NCOLS, NULL, p, &e);
}
