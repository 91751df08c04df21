#include "domain/json_rows.h"

int json_rows_collect(db_stmt *s, json_row_fn fn, json_t **out, error *err)
{
    db_error de;
    json_t *arr = json_array();
    int rc;
    while ((rc = db_step(s, &de)) == DB_ROW)
        json_array_append_new(arr, fn(s));
    db_reset(s);
    if (rc == DB_ERR) {
        json_decref(arr);
        return db_to_error(err, &de, NULL);
    }
    *out = arr;
    return 0;
}

int json_rows_one(db_stmt *s, json_row_fn fn, const char *what, const char *id, json_t **out,
                  error *err)
{
    json_t *arr = NULL;
    if (json_rows_collect(s, fn, &arr, err) != 0)
        return -1;
    if (json_array_size(arr) == 0) {
        json_decref(arr);
        return error_set(err, ERR_NOT_FOUND, NULL, "no %s with id '%s'", what, id);
    }
    *out = json_incref(json_array_get(arr, 0));
    json_decref(arr);
    return 0;
}
