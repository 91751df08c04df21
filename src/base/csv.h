/*
 * csv: an RFC 4180 reader. Fields separated by commas, records by CRLF or
 * LF (a lone CR inside an unquoted field is data); a field may be quoted,
 * with "" for a quote inside, and a quoted field may hold commas and line
 * breaks. A UTF-8 byte order mark at the start is skipped. A blank line
 * (nothing between two line breaks) is no record.
 *
 * Pure: no I/O, no global state; everything it returns lives in the
 * caller's arena. Limits keep a hostile input from costing more than its
 * size: past any of them the whole input is refused (ERR_TOO_LARGE).
 * Malformed quoting (a quote inside an unquoted field, text after a
 * closing quote, a quote never closed) is ERR_INVALID naming the line.
 */
#ifndef PS_BASE_CSV_H
#define PS_BASE_CSV_H

#include "base/arena.h"
#include "base/error.h"

#include <stddef.h>

typedef struct csv_limits {
    size_t max_records;   /* header included */
    size_t max_fields;    /* per record */
    size_t max_field_len; /* bytes, after unquoting */
} csv_limits;

typedef struct csv_record {
    size_t line;   /* the 1-based line the record starts on */
    size_t n;      /* fields */
    char **fields; /* NUL-terminated (a field holding a NUL byte is refused) */
} csv_record;

/**
 * Reads data[0..len) into *out (n records, arena a). 0 or -1 with err set:
 * ERR_INVALID for malformed quoting or a NUL byte, ERR_TOO_LARGE past a
 * limit, each naming the line.
 */
int csv_parse(arena *a, const char *data, size_t len, const csv_limits *lim, csv_record **out,
              size_t *n, error *err);

#endif
