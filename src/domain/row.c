#include "domain/row.h"

#include "base/log.h"
#include "base/text.h"
#include "base/timeutil.h"
#include "base/uuid.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- where a value lives --------------------------------------------------- */

#define ROW__AT(row, col, T) ((T *)((char *)(row) + (col)->off))

static const char *row__text(const void *row, const row_col *col)
{
    if (col->type == ROW_CHARS) {
        const char *s = ROW__AT(row, col, char);
        return s[0] == '\0' && (col->flags & ROW_NULLABLE) ? NULL : s;
    }
    return *ROW__AT(row, col, const char *);
}

static int64_t row__int(const void *row, const row_col *col)
{
    if (col->type == ROW_INT)
        return *ROW__AT(row, col, int);
    return *ROW__AT(row, col, int64_t);
}

/* Whether a number holds its column's NULL. */
/* A nullable real stores NULL as a negative number, like a nullable integer
 * (its values are never negative: ratios, durations, rates). */
static bool row__real_is_null(const row_col *col, double v)
{
    return (col->flags & ROW_NULLABLE) && v < 0;
}

static bool row__int_is_null(const row_col *col, int64_t v)
{
    if (!(col->flags & (ROW_NULLABLE | ROW_ZERO_NUL)))
        return false;
    return (col->flags & ROW_ZERO_NUL) ? v <= 0 : v < 0;
}

const row_col *row_col_find(const row_spec *sp, const char *name)
{
    for (size_t i = 0; i < sp->ncols; i++)
        if (strcmp(sp->cols[i].name, name) == 0)
            return &sp->cols[i];
    return NULL;
}

/* ---- reading ------------------------------------------------------------------ */

void row_tags_parse(arena *a, const char *text, const char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    /* Nearly always plain strings: read without building a tree (20 projects
     * a page made jansson 13 % of the list's CPU). */
    if (json_plain_strings(a, text, out, n))
        return;
    json_t *arr = text ? json_loads(text, 0, NULL) : NULL;
    if (json_is_array(arr) && json_array_size(arr) > 0) {
        const char **tags = arena_alloc(a, sizeof(*tags) * json_array_size(arr));
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v)
        {
            if (json_is_string(v))
                tags[(*n)++] = arena_strdup(a, json_string_value(v));
        }
        *out = tags;
    }
    json_decref(arr);
}

static int row__read_col(const row_col *col, db_stmt *s, int i, arena *a, void *row)
{
    bool null = db_col_is_null(s, i);
    switch (col->type) {
    case ROW_TEXT:
    case ROW_UUID:
    case ROW_ENUM:
    case ROW_JSON: {
        const char *t = db_col_text(s, i);
        *ROW__AT(row, col, const char *) = t ? arena_strdup(a, t) : NULL;
        return 0;
    }
    case ROW_CHARS:
        return db_col_copy(s, i, ROW__AT(row, col, char), col->size);
    case ROW_INT:
    case ROW_INT64: {
        int64_t v = null ? ((col->flags & ROW_ZERO_NUL)   ? 0
                            : (col->flags & ROW_NULLABLE) ? -1
                                                          : 0)
                         : db_col_int64(s, i);
        if (col->type == ROW_INT)
            *ROW__AT(row, col, int) = (int)v;
        else
            *ROW__AT(row, col, int64_t) = v;
        return 0;
    }
    case ROW_REAL:
        *ROW__AT(row, col, double) = !null                         ? db_col_double(s, i)
                                     : (col->flags & ROW_NULLABLE) ? -1
                                                                   : 0;
        return 0;
    case ROW_BOOL:
        *ROW__AT(row, col, bool) = !null && db_col_bool(s, i);
        return 0;
    case ROW_TIME:
        *ROW__AT(row, col, int64_t) = db_col_time(s, i);
        return 0;
    case ROW_TAGS:
        row_tags_parse(a, db_col_text(s, i), ROW__AT(row, col, const char **),
                       (size_t *)((char *)row + col->off_n));
        return 0;
    case ROW_BLOB:
        *ROW__AT(row, col, const unsigned char *) =
            db_col_blobdup(s, i, a, (size_t *)((char *)row + col->off_n));
        return 0;
    case ROW_OBJECT:
        return 0;
    }
    return 0;
}

int row_read(const row_spec *sp, db_stmt *s, arena *a, void *out, error *err)
{
    return row_read_at(sp, s, 0, db_col_count(s), a, out, err);
}

int row_read_at(const row_spec *sp, db_stmt *s, int first, int n, arena *a, void *out, error *err)
{
    memset(out, 0, sp->size);
    size_t next = 0; /* statements list columns in spec order: try there first */
    for (int i = first; i < first + n; i++) {
        const char *name = db_col_name(s, i);
        const row_col *col = NULL;
        if (next < sp->ncols && strcmp(sp->cols[next].name, name) == 0)
            col = &sp->cols[next];
        else
            col = row_col_find(sp, name);
        if (col == NULL || (col->flags & ROW_BODY))
            continue;
        next = (size_t)(col - sp->cols) + 1;
        if (row__read_col(col, s, i, a, out) != 0)
            return error_set(err, ERR_INTERNAL, NULL,
                             "a stored %s.%s is longer than this build can read", sp->what,
                             col->name);
    }
    return 0;
}

/* ---- binding --------------------------------------------------------------------- */

static char *row__tags_json(arena *a, const char *const *tags, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_string(tags[i]));
    char *text = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    char *copy = arena_strdup(a, text ? text : "[]");
    free(text);
    return copy;
}

static db_arg row__arg(const row_col *col, const void *row, arena *a)
{
    switch (col->type) {
    case ROW_TEXT:
    case ROW_CHARS:
    case ROW_UUID:
    case ROW_ENUM:
    case ROW_JSON: {
        const char *t = row__text(row, col);
        if (t != NULL && t[0] == '\0' && (col->flags & ROW_EMPTY_NUL))
            t = NULL;
        return DB_TEXT(t);
    }
    case ROW_INT:
    case ROW_INT64: {
        int64_t v = row__int(row, col);
        return row__int_is_null(col, v) ? DB_NULL : DB_INT(v);
    }
    case ROW_REAL:
        return row__real_is_null(col, *ROW__AT(row, col, double))
                   ? DB_NULL
                   : DB_DOUBLE(*ROW__AT(row, col, double));
    case ROW_BOOL:
        return DB_BOOL(*ROW__AT(row, col, bool));
    case ROW_TIME: {
        int64_t v = *ROW__AT(row, col, int64_t);
        return (col->flags & ROW_ZERO_NUL) && v <= 0 ? DB_NULL : DB_TIME(v);
    }
    case ROW_TAGS:
        return DB_TEXT(row__tags_json(a, *ROW__AT(row, col, const char *const *),
                                      *(const size_t *)((const char *)row + col->off_n)));
    case ROW_BLOB: {
        const unsigned char *p = *ROW__AT(row, col, const unsigned char *const);
        return p == NULL ? DB_NULL : DB_BLOB(p, *(const size_t *)((const char *)row + col->off_n));
    }
    case ROW_OBJECT:
        break;
    }
    return DB_NULL;
}

/* Calls fn for each name of a comma-separated list; a name the spec lacks
 * is a programming error, caught by the first test that runs the statement. */
#define ROW__EACH_NAME(sp, names, col)                                                             \
    for (const char *p_ = (names), *e_; *p_ != '\0'; p_ = *e_ ? e_ + 1 : e_)                       \
        for (const row_col *col = row__name(sp, &p_, &e_); col != NULL; col = NULL)

static const row_col *row__name(const row_spec *sp, const char **p, const char **end)
{
    while (**p == ' ' || **p == '\n')
        (*p)++;
    *end = strchr(*p, ',');
    if (*end == NULL)
        *end = *p + strlen(*p);
    size_t len = (size_t)(*end - *p);
    while (len > 0 && (*p)[len - 1] == ' ')
        len--;
    for (size_t i = 0; i < sp->ncols; i++)
        if (strlen(sp->cols[i].name) == len && strncmp(sp->cols[i].name, *p, len) == 0)
            return &sp->cols[i];
    log_error("row: %s has no column '%.*s'", sp->what, (int)len, *p);
    abort();
}

db_args row_args(const row_spec *sp, const void *row, const char *names, arena *a, row_argv *av)
{
    int n = 0;
    ROW__EACH_NAME(sp, names, col)
    {
        if (n == ROW_MAX_ARGS) {
            log_error("row: more than %d parameters for %s", ROW_MAX_ARGS, sp->what);
            abort();
        }
        av->v[n++] = row__arg(col, row, a);
    }
    return (db_args){av->v, n};
}

/* ---- JSON ----------------------------------------------------------------------------- */

static void row__json_value(jw *w, const row_col *col, const void *row)
{
    switch (col->type) {
    case ROW_TEXT:
    case ROW_CHARS:
    case ROW_UUID:
    case ROW_ENUM:
        jw_str(w, row__text(row, col));
        return;
    case ROW_INT:
    case ROW_INT64: {
        int64_t v = row__int(row, col);
        if (row__int_is_null(col, v))
            jw_null(w);
        else
            jw_int(w, v);
        return;
    }
    case ROW_REAL:
        if (row__real_is_null(col, *ROW__AT(row, col, double)))
            jw_null(w);
        else
            jw_real(w, *ROW__AT(row, col, double));
        return;
    case ROW_BOOL:
        jw_bool(w, *ROW__AT(row, col, bool));
        return;
    case ROW_TIME:
        jw_time(w, *ROW__AT(row, col, int64_t));
        return;
    case ROW_TAGS: {
        const char *const *tags = *ROW__AT(row, col, const char *const *);
        size_t n = *(const size_t *)((const char *)row + col->off_n);
        jw_arr_begin(w);
        for (size_t i = 0; i < n; i++)
            jw_str(w, tags[i]);
        jw_arr_end(w);
        return;
    }
    case ROW_JSON: {
        const char *t = *ROW__AT(row, col, const char *);
        json_t *doc = t ? json_loads(t, JSON_DECODE_ANY, NULL) : NULL;
        if (doc != NULL)
            jw_value(w, doc);
        else
            jw_null(w);
        json_decref(doc);
        return;
    }
    case ROW_BLOB:
    case ROW_OBJECT:
        break;
    }
    jw_null(w);
}

void row_json_members(jw *w, const row_spec *sp, const void *row)
{
    for (size_t i = 0; i < sp->ncols; i++) {
        const row_col *col = &sp->cols[i];
        if (col->flags & (ROW_PRIVATE | ROW_BODY))
            continue;
        jw_key(w, col->name);
        row__json_value(w, col, row);
    }
}

void row_json_write(jw *w, const row_spec *sp, const void *row)
{
    jw_obj_begin(w);
    row_json_members(w, sp, row);
    jw_obj_end(w);
}

void row_json_names(jw *w, const row_spec *sp, const void *row, const char *names)
{
    ROW__EACH_NAME(sp, names, col)
    {
        jw_key(w, col->name);
        row__json_value(w, col, row);
    }
}

/* ---- documents ------------------------------------------------------------------------ */

static int row__from_value(const row_col *col, void *row, const json_t *v, arena *a, error *err)
{
    const char *name = col->name;
    if (json_is_null(v) && (col->flags & ROW_NULLABLE) &&
        (col->type == ROW_TEXT || col->type == ROW_CHARS || col->type == ROW_UUID ||
         col->type == ROW_ENUM)) {
        if (col->type == ROW_CHARS)
            ROW__AT(row, col, char)[0] = '\0';
        else
            *ROW__AT(row, col, const char *) = NULL;
        return 0;
    }
    switch (col->type) {
    case ROW_TEXT:
    case ROW_CHARS:
    case ROW_UUID:
    case ROW_ENUM: {
        if (!json_is_string(v))
            return error_set(err, ERR_INVALID, name, "%s must be a string", name);
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (memchr(s, '\0', n) != NULL)
            return error_set(err, ERR_INVALID, name, "%s must not contain NUL characters", name);
        if (col->type != ROW_CHARS) {
            bool none = n == 0 && (col->flags & ROW_EMPTY_NUL);
            *ROW__AT(row, col, const char *) = none ? NULL : arena_strndup(a, s, n);
            return 0;
        }
        if (n >= col->size)
            return error_set(err, ERR_INVALID, name, "%s is too long", name);
        memcpy(ROW__AT(row, col, char), s, n + 1);
        return 0;
    }
    case ROW_INT:
    case ROW_INT64: {
        int64_t i;
        if (json_is_integer(v))
            i = json_integer_value(v);
        else if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
                 fabs(json_real_value(v)) < 9e15)
            i = (int64_t)json_real_value(v);
        else if (json_is_null(v) && (col->flags & (ROW_NULLABLE | ROW_ZERO_NUL)))
            i = (col->flags & ROW_ZERO_NUL) ? 0 : -1;
        else
            return error_set(err, ERR_INVALID, name, "%s must be an integer", name);
        if (col->type == ROW_INT)
            *ROW__AT(row, col, int) = (int)i;
        else
            *ROW__AT(row, col, int64_t) = i;
        return 0;
    }
    case ROW_REAL:
        if (!json_is_number(v))
            return error_set(err, ERR_INVALID, name, "%s must be a number", name);
        *ROW__AT(row, col, double) = json_number_value(v);
        return 0;
    case ROW_BOOL:
        if (!json_is_boolean(v))
            return error_set(err, ERR_INVALID, name, "%s must be true or false", name);
        *ROW__AT(row, col, bool) = json_is_true(v);
        return 0;
    case ROW_TIME: {
        int64_t t = 0;
        if (!json_is_null(v) && (!json_is_string(v) || !time_parse(json_string_value(v), &t)))
            return error_set(err, ERR_INVALID, name, "%s must be a time", name);
        *ROW__AT(row, col, int64_t) = t;
        return 0;
    }
    case ROW_TAGS: {
        if (!json_is_array(v))
            return error_set(err, ERR_INVALID, name, "%s must be a list of strings", name);
        const char **tags = arena_alloc(a, sizeof(*tags) * (json_array_size(v) + 1));
        size_t i, n = 0;
        json_t *item;
        json_array_foreach(v, i, item)
        {
            if (!json_is_string(item))
                return error_set(err, ERR_INVALID, name, "%s must be a list of strings", name);
            tags[n++] = arena_strdup(a, json_string_value(item));
        }
        *ROW__AT(row, col, const char **) = tags;
        *(size_t *)((char *)row + col->off_n) = n;
        return 0;
    }
    case ROW_JSON: {
        char *t = json_is_null(v) ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        *ROW__AT(row, col, const char *) = t ? arena_strdup(a, t) : NULL;
        free(t);
        return 0;
    }
    case ROW_BLOB: /* private: never in a document */
    case ROW_OBJECT:
        break;
    }
    return 0;
}

int row_from_json(const row_spec *sp, void *row, const json_t *obj, const char *names, arena *a,
                  error *err)
{
    ROW__EACH_NAME(sp, names, col)
    {
        const json_t *v = json_object_get(obj, col->name);
        if (v != NULL && row__from_value(col, row, v, a, err) != 0)
            return -1;
    }
    return 0;
}

/* A column's value as a jansson value, as row__json_value writes it. */
static json_t *row__value_json(const row_col *col, const void *row)
{
    switch (col->type) {
    case ROW_TEXT:
    case ROW_CHARS:
    case ROW_UUID:
    case ROW_ENUM: {
        json_t *s = json_str(row__text(row, col)); /* NULL for NULL or text that is not UTF-8 */
        return s ? s : json_null();
    }
    case ROW_INT:
    case ROW_INT64: {
        int64_t v = row__int(row, col);
        return row__int_is_null(col, v) ? json_null() : json_integer(v);
    }
    case ROW_REAL:
        return row__real_is_null(col, *ROW__AT(row, col, double))
                   ? json_null()
                   : json_real(*ROW__AT(row, col, double));
    case ROW_BOOL:
        return json_boolean(*ROW__AT(row, col, bool));
    case ROW_TIME: {
        int64_t t = *ROW__AT(row, col, int64_t);
        if (t == 0)
            return json_null();
        char text[TIME_STR_LEN + 1];
        time_format(t, text);
        return json_string(text);
    }
    case ROW_TAGS: {
        json_t *arr = json_array();
        const char *const *tags = *ROW__AT(row, col, const char *const *);
        size_t n = *(const size_t *)((const char *)row + col->off_n);
        for (size_t i = 0; i < n; i++) {
            json_t *s = json_str(tags[i]);
            json_array_append_new(arr, s ? s : json_null());
        }
        return arr;
    }
    case ROW_JSON: {
        const char *t = *ROW__AT(row, col, const char *);
        json_t *doc = t ? json_loads(t, JSON_DECODE_ANY, NULL) : NULL;
        return doc ? doc : json_null();
    }
    case ROW_BLOB:
    case ROW_OBJECT:
        break;
    }
    return json_null();
}

static bool row__text_equal(const char *a, const char *b)
{
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool row__equal(const row_col *col, const void *a, const void *b)
{
    switch (col->type) {
    case ROW_TEXT:
    case ROW_CHARS:
    case ROW_UUID:
    case ROW_ENUM:
    case ROW_JSON: /* the same text: documents written by one encoder */
        return row__text_equal(row__text(a, col), row__text(b, col));
    case ROW_INT:
    case ROW_INT64:
        return row__int(a, col) == row__int(b, col);
    case ROW_REAL:
        return *ROW__AT(a, col, double) == *ROW__AT(b, col, double);
    case ROW_BOOL:
        return *ROW__AT(a, col, bool) == *ROW__AT(b, col, bool);
    case ROW_TIME:
        return *ROW__AT(a, col, int64_t) == *ROW__AT(b, col, int64_t);
    case ROW_TAGS: {
        size_t n = *(const size_t *)((const char *)a + col->off_n);
        if (n != *(const size_t *)((const char *)b + col->off_n))
            return false;
        for (size_t i = 0; i < n; i++)
            if (!row__text_equal((*ROW__AT(a, col, const char *const *))[i],
                                 (*ROW__AT(b, col, const char *const *))[i]))
                return false;
        return true;
    }
    case ROW_BLOB: {
        size_t n = *(const size_t *)((const char *)a + col->off_n);
        const unsigned char *x = *ROW__AT(a, col, const unsigned char *);
        const unsigned char *y = *ROW__AT(b, col, const unsigned char *);
        return n == *(const size_t *)((const char *)b + col->off_n) &&
               (x == y || (x != NULL && y != NULL && memcmp(x, y, n) == 0));
    }
    case ROW_OBJECT:
        break;
    }
    return true;
}

int row_diff(const row_spec *sp, const void *a, const void *b, const char *names, json_t *changes)
{
    int n = 0;
    ROW__EACH_NAME(sp, names, col)
    {
        if (row__equal(col, a, b))
            continue;
        n++;
        if (changes != NULL)
            json_array_append_new(changes, json_pack("{s:s, s:o, s:o}", "field", col->name, "from",
                                                     row__value_json(col, a), "to",
                                                     row__value_json(col, b)));
    }
    return n;
}

/* ---- validation ------------------------------------------------------------------------ */

/* One fault, as a message about the field ("must …"). */
typedef struct row__fault {
    char field[96];
    char message[300];
} row__fault;

static bool row__fail(row__fault *f, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool row__fail(row__fault *f, const char *field, const char *fmt, ...)
{
    snprintf(f->field, sizeof(f->field), "%s", field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->message, sizeof(f->message), fmt, ap);
    va_end(ap);
    return false;
}

/* Characters, not bytes (jansson has already checked the UTF-8), as the
 * schema's length() counts them and as buffers are sized (base/text.h). */
static bool row__check_chars(const row_col *col, const char *s, const char *label, row__fault *f)
{
    size_t n = utf8_chars(s);
    if (n < (size_t)col->min)
        return row__fail(f, label, "must have at least %.0f character%s", col->min,
                         col->min == 1 ? "" : "s");
    if (col->max > 0 && n > (size_t)col->max)
        return row__fail(f, label, "must have at most %.0f characters (has %zu)", col->max, n);
    return true;
}

static bool row__check_enum(const row_col *col, const char *s, row__fault *f)
{
    for (const char *const *e = col->values; s != NULL && *e; e++)
        if (strcmp(*e, s) == 0)
            return true;
    char list[256] = "";
    for (const char *const *e = col->values; *e; e++) {
        if (list[0])
            strncat(list, ", ", sizeof(list) - strlen(list) - 1);
        strncat(list, *e, sizeof(list) - strlen(list) - 1);
    }
    return row__fail(f, col->name, "must be one of: %s", list);
}

static bool row__check_int(const row_col *col, double v, row__fault *f)
{
    if (v < col->min || v > col->max)
        return row__fail(f, col->name, "must be from %.0f to %.0f", col->min, col->max);
    return true;
}

static void row__fault_json(json_t *faults, const char *field, const char *message)
{
    json_array_append_new(faults, json_pack("{s:s,s:s}", "field", field, "message", message));
}

static bool row__check_json(const row_col *col, const json_t *v, json_t *faults)
{
    row__fault f;
    bool ok = true;
    const char *name = col->name;
    switch (col->type) {
    case ROW_TEXT:
    case ROW_CHARS:
    case ROW_TIME:
        ok = json_is_string(v) ? row__check_chars(col, json_string_value(v), name, &f)
                               : row__fail(&f, name, "must be a string");
        break;
    case ROW_INT:
    case ROW_INT64:
        ok = json_is_integer(v) ? row__check_int(col, (double)json_integer_value(v), &f)
                                : row__fail(&f, name, "must be a whole number");
        break;
    case ROW_REAL:
        if (!json_is_number(v))
            ok = row__fail(&f, name, "must be a number");
        else if (json_number_value(v) < col->min || json_number_value(v) > col->max)
            ok = row__fail(&f, name, "must be from %g to %g", col->min, col->max);
        break;
    case ROW_BOOL:
        if (!json_is_boolean(v))
            ok = row__fail(&f, name, "must be true or false");
        break;
    case ROW_UUID:
        if (!json_is_string(v) || !uuid_is_valid(json_string_value(v)))
            ok = row__fail(&f, name, "must be an id (a UUID string)");
        break;
    case ROW_ENUM:
        ok = row__check_enum(col, json_is_string(v) ? json_string_value(v) : NULL, &f);
        break;
    case ROW_TAGS: {
        if (!json_is_array(v)) {
            ok = row__fail(&f, name, "must be a list of strings");
            break;
        }
        if (col->max_items > 0 && json_array_size(v) > (size_t)col->max_items) {
            row__fail(&f, name, "must have at most %d items", col->max_items);
            row__fault_json(faults, f.field, f.message);
        }
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item)
        {
            char label[96];
            snprintf(label, sizeof(label), "%s[%zu]", name, i);
            bool good = json_is_string(item)
                            ? row__check_chars(col, json_string_value(item), label, &f)
                            : row__fail(&f, label, "must be a string");
            if (!good)
                row__fault_json(faults, f.field, f.message);
        }
        return true;
    }
    case ROW_OBJECT:
        if (!json_is_object(v))
            ok = row__fail(&f, name, "must be an object");
        break;
    case ROW_JSON: /* any document */
        break;
    case ROW_BLOB:
        ok = row__fail(&f, name, "is not a field of this resource");
        break;
    }
    if (!ok)
        row__fault_json(faults, f.field, f.message);
    return ok;
}

size_t row_check_body(const row_spec *sp, const json_t *body, row_mode mode, bool admin,
                      json_t *faults)
{
    size_t before = json_array_size(faults);
    unsigned may = mode == ROW_MODE_CREATE ? ROW_CREATE : ROW_UPDATE;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)body, key, v)
    {
        const row_col *col = row_col_find(sp, key);
        if (col == NULL || (col->flags & ROW_PRIVATE)) {
            row__fault_json(faults, key, "is not a field of this resource");
            continue;
        }
        if (!(col->flags & may)) {
            row__fault_json(faults, key, "is read-only");
            continue;
        }
        if ((col->flags & ROW_ADMIN) && !admin) {
            row__fault_json(faults, key, "only administrators may set this field");
            continue;
        }
        if (json_is_null(v)) {
            if (!(col->flags & ROW_NULLABLE))
                row__fault_json(faults, key, "must not be null");
            continue;
        }
        row__check_json(col, v, faults);
    }
    if (mode == ROW_MODE_CREATE) {
        for (size_t i = 0; i < sp->ncols; i++)
            if ((sp->cols[i].flags & ROW_REQUIRED) &&
                json_object_get(body, sp->cols[i].name) == NULL)
                row__fault_json(faults, sp->cols[i].name, "is required");
    } else if (json_object_size(body) == 0) {
        row__fault_json(faults, "body", "names no field to change");
    }
    return json_array_size(faults) - before;
}

/* The check of one value held in a struct. */
static bool row__check_value(const row_col *col, const void *row, row__fault *f)
{
    switch (col->type) {
    case ROW_TEXT:
    case ROW_CHARS: {
        const char *s = row__text(row, col);
        return s == NULL || row__check_chars(col, s, col->name, f);
    }
    case ROW_UUID: {
        const char *s = row__text(row, col);
        return s == NULL || uuid_is_valid(s) ||
               row__fail(f, col->name, "must be an id (a UUID string)");
    }
    case ROW_ENUM: {
        const char *s = row__text(row, col);
        return s == NULL || row__check_enum(col, s, f);
    }
    case ROW_INT:
    case ROW_INT64: {
        int64_t v = row__int(row, col);
        return row__int_is_null(col, v) || row__check_int(col, (double)v, f);
    }
    case ROW_REAL: {
        double v = *ROW__AT(row, col, double);
        if (row__real_is_null(col, v)) /* NULL, as row_args binds it */
            return true;
        if (v < col->min || v > col->max)
            return row__fail(f, col->name, "must be from %g to %g", col->min, col->max);
        return true;
    }
    case ROW_TAGS: {
        const char *const *tags = *ROW__AT(row, col, const char *const *);
        size_t n = *(const size_t *)((const char *)row + col->off_n);
        if (col->max_items > 0 && n > (size_t)col->max_items)
            return row__fail(f, col->name, "must have at most %d items", col->max_items);
        for (size_t i = 0; i < n; i++) {
            char label[96];
            snprintf(label, sizeof(label), "%s[%zu]", col->name, i);
            if (!row__check_chars(col, tags[i] ? tags[i] : "", label, f))
                return false;
        }
        return true;
    }
    case ROW_BOOL:
    case ROW_TIME:
    case ROW_OBJECT:
    case ROW_JSON:
    case ROW_BLOB:
        return true;
    }
    return true;
}

int row_check(const row_spec *sp, const void *row, const char *names, error *err)
{
    ROW__EACH_NAME(sp, names, col)
    {
        row__fault f;
        if (!row__check_value(col, row, &f))
            return error_set(err, ERR_INVALID, f.field, "%s %s", f.field, f.message);
    }
    return 0;
}
