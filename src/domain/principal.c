#include "domain/principal.h"

#include <string.h>

int principal_read(db_stmt *s, int at, principal *p)
{
    int bad = DB_COL_COPY(s, at, p->user_id) | DB_COL_COPY(s, at + 1, p->email);
    const char *role = db_col_text(s, at + 2);
    p->is_admin = role != NULL && strcmp(role, "admin") == 0;
    bad |= DB_COL_COPY(s, at + 3, p->plan_id) | DB_COL_COPY(s, at + 4, p->plan_code);
    p->plan_rank = (int)db_col_int64(s, at + 5);
    p->max_channels = db_col_is_null(s, at + 6) ? -1 : (int)db_col_int64(s, at + 6);
    p->max_projects_per_month = db_col_is_null(s, at + 7) ? -1 : (int)db_col_int64(s, at + 7);
    p->max_generations_per_month = db_col_is_null(s, at + 8) ? -1 : (int)db_col_int64(s, at + 8);
    return bad;
}
