/*
 * row: one description per table (after dovecot's struct sql_field_def and
 * the field table persona_store.c grew first). A row_spec lists a table's
 * columns as the API sees them: name, type, where the value lives in the C
 * struct, its limits (characters for text, values for numbers), whether it
 * may be NULL, and whether a client may write it on create or update (or
 * only an administrator). From that one list come:
 *   - reading a result row into the struct by column name (row_read), text
 *     copied whole into the caller's arena (never cut to a buffer);
 *   - the parameters of a statement (row_args), named in the order of its
 *     $1 … $n, with the column's NULL convention applied;
 *   - the JSON of a row through jw (row_json_members), in spec order;
 *   - the allow-list and validation of a request body (row_check_body) and
 *     of values a service builds itself (row_check).
 * So a limit is written once, here, beside the schema CHECK that holds the
 * same number.
 *
 * A spec may also name body-only fields (ROW_BODY): inputs of an endpoint
 * that are not columns ("generate", "password"); they are validated like
 * columns and never read, bound or written.
 */
#ifndef PS_DOMAIN_ROW_H
#define PS_DOMAIN_ROW_H

#include "base/arena.h"
#include "base/error.h"
#include "base/jsonout.h"
#include "db/db.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum row_type {
    ROW_TEXT,   /* const char * in the arena; min/max in characters */
    ROW_CHARS,  /* char[size] inside the struct (ids, codes); "" is NULL when nullable */
    ROW_UUID,   /* a const char * id; a body value must be a UUID */
    ROW_ENUM,   /* a const char * that is one of `values` */
    ROW_INT,    /* int; min/max as values */
    ROW_INT64,  /* int64_t */
    ROW_REAL,   /* double; nullable: a negative one is NULL */
    ROW_BOOL,   /* bool */
    ROW_TIME,   /* int64_t microseconds; RFC 3339 in JSON, 0 is null (SQL NULL with ROW_ZERO_NUL) */
    ROW_TAGS,   /* const char ** with its size_t count at off_n; stored as a JSON array of
                   strings; min/max per item, max_items for the list */
    ROW_OBJECT, /* body only: any JSON object, checked by its handler */
    ROW_JSON,   /* const char * holding a JSON document's text (a job's payload); the JSON
                   output embeds the document itself (null when the text is not one) */
    ROW_BLOB,   /* const unsigned char * in the arena with its size_t length at off_n; NULL is
                   SQL NULL; never in JSON or bodies (sealed tokens): always ROW_PRIVATE */
} row_type;

#define ROW_NULLABLE                                                                               \
    0x001u                   /* a client may send null; "" is NULL for ROW_CHARS, a negative       \
                                number for ROW_INT(64) (SQL NULL text is always a NULL pointer) */
#define ROW_CREATE    0x002u /* a client may give it when creating */
#define ROW_UPDATE    0x004u /* a client may change it */
#define ROW_REQUIRED  0x008u /* a create must give it */
#define ROW_ADMIN     0x010u /* only administrators may set it */
#define ROW_PRIVATE   0x020u /* never in JSON, unknown to bodies (hashes, counters) */
#define ROW_BODY      0x040u /* not a column: a body field only */
#define ROW_ZERO_NUL  0x080u /* a number whose 0 (or less) is SQL NULL; else a negative one is */
#define ROW_EMPTY_NUL 0x100u /* a text whose "" is stored as NULL */
#define ROW_WRITE     (ROW_CREATE | ROW_UPDATE)

typedef struct row_col {
    const char *name; /* the column's and the JSON member's */
    row_type type;
    unsigned flags;
    size_t off;  /* where the value lives in the struct */
    size_t size; /* ROW_CHARS: the buffer's bytes */
    double min, max;
    const char *const *values; /* ROW_ENUM: NULL-terminated */
    int max_items;             /* ROW_TAGS */
    size_t off_n;              /* ROW_TAGS: where the count lives */
} row_col;

typedef struct row_spec {
    const char *what; /* "project": for messages */
    size_t size;      /* sizeof the struct */
    const row_col *cols;
    size_t ncols;
} row_spec;

/* A column of struct T: ROW_COL(project, topic, ROW_TEXT, ROW_WRITE, 1, 500). */
#define ROW_COL(T, member, type_, flags_, min_, max_)                                              \
    {                                                                                              \
#member, type_, flags_, offsetof(T, member), sizeof(((T *)0)->member), min_, max_, NULL,   \
            0, 0                                                                                   \
    }
#define ROW_ENUM_COL(T, member, flags_, values_)                                                   \
    {                                                                                              \
#member, ROW_ENUM, flags_, offsetof(T, member), 0, 0, 0, values_, 0, 0                     \
    }
#define ROW_TAGS_COL(T, member, count, flags_, min_, max_, items_)                                 \
    {                                                                                              \
#member, ROW_TAGS, flags_, offsetof(T, member), 0, min_, max_, NULL, items_,               \
            offsetof(T, count)                                                                     \
    }
/* A blob column whose C member is named apart from it (sealed bytes and their length). */
#define ROW_BLOB_COL(T, name_, member, len, flags_)                                                \
    {                                                                                              \
        name_, ROW_BLOB, (flags_) | ROW_PRIVATE, offsetof(T, member), 0, 0, 0, NULL, 0,            \
            offsetof(T, len)                                                                       \
    }
/* A body-only field. */
#define ROW_FIELD(name_, type_, flags_, min_, max_)                                                \
    {                                                                                              \
        name_, type_, (flags_) | ROW_BODY, 0, 0, min_, max_, NULL, 0, 0                            \
    }
#define ROW_LIST_FIELD(name_, flags_, min_, max_, items_)                                          \
    {                                                                                              \
        name_, ROW_TAGS, (flags_) | ROW_BODY, 0, 0, min_, max_, NULL, items_, 0                    \
    }
#define ROW_ENUM_FIELD(name_, flags_, values_)                                                     \
    {                                                                                              \
        name_, ROW_ENUM, (flags_) | ROW_BODY, 0, 0, 0, 0, values_, 0, 0                            \
    }
#define ROW_SPEC(T, what_, cols_)                                                                  \
    {                                                                                              \
        what_, sizeof(T), cols_, sizeof(cols_) / sizeof(cols_[0])                                  \
    }

/** The column called name, or NULL. */
const row_col *row_col_find(const row_spec *sp, const char *name);

/**
 * Reads the current result row into out (zeroed first) by column name:
 * every result column the spec knows is read, others are left to the
 * caller (db_col_name). Text is copied into a. 0, or -1 with err filled
 * when a value does not fit a ROW_CHARS buffer.
 */
int row_read(const row_spec *sp, db_stmt *s, arena *a, void *out, error *err);
/**
 * row_read of the n result columns from `first` only: a join whose other
 * table's columns (which may share names, such as id) another reader takes.
 */
int row_read_at(const row_spec *sp, db_stmt *s, int first, int n, arena *a, void *out, error *err);

/** Room for the parameters of one statement. */
#define ROW_MAX_ARGS 32
typedef struct row_argv {
    db_arg v[ROW_MAX_ARGS];
} row_argv;

/**
 * The parameters $1 … $n of a statement: the values of the columns named
 * in `names` (comma-separated, the same text the statement's column list
 * uses), from row, in that order, in av. A tag list is bound as its JSON
 * text, made in a.
 */
db_args row_args(const row_spec *sp, const void *row, const char *names, arena *a, row_argv *av);

/** Writes every column that is not ROW_PRIVATE or ROW_BODY as a member, in spec order. */
void row_json_members(jw *w, const row_spec *sp, const void *row);
/** row_json_members inside an object. */
void row_json_write(jw *w, const row_spec *sp, const void *row);
/** Writes the columns named in `names` (comma-separated) as members, in that order. */
void row_json_names(jw *w, const row_spec *sp, const void *row, const char *names);

/**
 * Copies into row the named columns (comma-separated) that obj carries, as
 * a stored document (a snapshot, a preset) holds them: text into a, JSON
 * null as the column's NULL when nullable, a whole real for an integer, an
 * RFC 3339 text for a time. A value of the wrong type, or too long for a
 * ROW_CHARS buffer, is ERR_INVALID naming the field; limits are row_check's.
 */
int row_from_json(const row_spec *sp, void *row, const json_t *obj, const char *names, arena *a,
                  error *err);
/**
 * Compares the named columns of a and b; appends {"field", "from", "to"}
 * to changes (when not NULL) for each that differs. Returns how many differ.
 */
int row_diff(const row_spec *sp, const void *a, const void *b, const char *names, json_t *changes);

typedef enum row_mode { ROW_MODE_CREATE, ROW_MODE_UPDATE } row_mode;

/**
 * Checks a request body against the spec: each member must be a field a
 * client may write in this mode (a column it may not is "read-only"; a
 * name the spec lacks is not a field), of its type and within its limits;
 * ROW_ADMIN ones need admin. A create must give every ROW_REQUIRED field,
 * an update at least one. Each fault is appended to faults as {"field",
 * "message"}; returns how many there were.
 */
size_t row_check_body(const row_spec *sp, const json_t *body, row_mode mode, bool admin,
                      json_t *faults);

/**
 * Checks the named columns' values in row (comma-separated names) against
 * their limits, as row_check_body checks a body: the first fault is
 * ERR_INVALID naming the field. A NULL text passes (it means "not given").
 */
int row_check(const row_spec *sp, const void *row, const char *names, error *err);

/** Reads a JSON array of strings as stored by a ROW_TAGS column (anything else: none). */
void row_tags_parse(arena *a, const char *text, const char ***out, size_t *n);

#endif
