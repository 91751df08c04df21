/*
 * Rows as jansson documents, for the admin views of users and plans, which
 * answer json_t trees rather than arena rows. One copy of "collect the rows
 * of a bound statement" and "exactly one row, else not found", shared by
 * user_store.c and plan_store.c.
 */
#ifndef PS_DOMAIN_JSON_ROWS_H
#define PS_DOMAIN_JSON_ROWS_H

#include "base/error.h"
#include "db/db.h"

#include <jansson.h>

typedef json_t *(*json_row_fn)(db_stmt *s);

/** Steps the bound statement s to its end and resets it; *out is a new
 *  array of fn(row) for each row. On a database error, -1 with err mapped
 *  (db_to_error) and *out untouched. */
int json_rows_collect(db_stmt *s, json_row_fn fn, json_t **out, error *err);

/** Same, for a query by id: *out is the first row. No row is ERR_NOT_FOUND
 *  "no <what> with id '<id>'". */
int json_rows_one(db_stmt *s, json_row_fn fn, const char *what, const char *id, json_t **out,
                  error *err);

#endif
