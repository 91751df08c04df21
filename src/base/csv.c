#include "base/csv.h"

#include <string.h>

typedef struct csv__state {
    const char *d;
    size_t len, p, line;
    const csv_limits *lim;
    error *err;
} csv__state;

/* A record ends at LF, at CRLF, or at a CR that ends the input. */
static size_t csv__break_len(const csv__state *s)
{
    if (s->p >= s->len)
        return 0;
    if (s->d[s->p] == '\n')
        return 1;
    if (s->d[s->p] == '\r' && (s->p + 1 == s->len || s->d[s->p + 1] == '\n'))
        return s->p + 1 == s->len ? 1 : 2;
    return 0;
}

static int csv__check_len(csv__state *s, size_t n, size_t line)
{
    if (n > s->lim->max_field_len)
        return error_set(s->err, ERR_TOO_LARGE, NULL, "line %zu: a field is longer than %zu bytes",
                         line, s->lim->max_field_len);
    return 0;
}

/* A quoted field starting at the quote at s->p; leaves s->p after the
 * closing quote. */
static char *csv__quoted(csv__state *s, arena *a, size_t rec_line)
{
    size_t start = ++s->p, q = start, n = 0;
    for (;;) {
        if (q >= s->len) {
            error_set(s->err, ERR_INVALID, NULL, "line %zu: a quoted field is never closed",
                      rec_line);
            return NULL;
        }
        if (s->d[q] == '"') {
            if (q + 1 < s->len && s->d[q + 1] == '"') {
                q += 2;
                n++;
                continue;
            }
            break;
        }
        q++;
        n++;
    }
    if (csv__check_len(s, n, rec_line) != 0)
        return NULL;
    char *f = arena_alloc(a, n + 1), *o = f;
    for (size_t i = start; i < q; i++) {
        if (s->d[i] == '\0') {
            error_set(s->err, ERR_INVALID, NULL, "line %zu: a field holds a NUL byte", s->line);
            return NULL;
        }
        if (s->d[i] == '\n')
            s->line++;
        *o++ = s->d[i];
        if (s->d[i] == '"')
            i++; /* the second quote of "" */
    }
    *o = '\0';
    s->p = q + 1;
    if (s->p < s->len && s->d[s->p] != ',' && csv__break_len(s) == 0) {
        error_set(s->err, ERR_INVALID, NULL, "line %zu: text after a closing quote", s->line);
        return NULL;
    }
    return f;
}

static char *csv__plain(csv__state *s, arena *a)
{
    size_t start = s->p;
    while (s->p < s->len && s->d[s->p] != ',' && csv__break_len(s) == 0) {
        if (s->d[s->p] == '"') {
            error_set(s->err, ERR_INVALID, NULL,
                      "line %zu: a quote inside an unquoted field (quote the whole field and "
                      "double the quote)",
                      s->line);
            return NULL;
        }
        if (s->d[s->p] == '\0') {
            error_set(s->err, ERR_INVALID, NULL, "line %zu: a field holds a NUL byte", s->line);
            return NULL;
        }
        s->p++;
    }
    if (csv__check_len(s, s->p - start, s->line) != 0)
        return NULL;
    return arena_strndup(a, s->d + start, s->p - start);
}

int csv_parse(arena *a, const char *data, size_t len, const csv_limits *lim, csv_record **out,
              size_t *n, error *err)
{
    *out = NULL;
    *n = 0;
    csv__state s = {data, len, 0, 1, lim, err};
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        s.p = 3;
    size_t breaks = 1;
    for (size_t i = s.p; i < len; i++)
        breaks += data[i] == '\n';
    size_t cap = breaks < lim->max_records ? breaks : lim->max_records;
    csv_record *recs = arena_alloc(a, cap * sizeof(*recs));
    char **scratch = arena_alloc(a, (lim->max_fields ? lim->max_fields : 1) * sizeof(*scratch));
    size_t nrec = 0;
    while (s.p < len) {
        size_t bl = csv__break_len(&s);
        if (bl > 0) { /* a blank line */
            s.p += bl;
            s.line++;
            continue;
        }
        if (nrec == lim->max_records)
            return error_set(err, ERR_TOO_LARGE, NULL, "line %zu: more than %zu records", s.line,
                             lim->max_records);
        size_t rec_line = s.line, nf = 0;
        for (;;) {
            if (nf == lim->max_fields)
                return error_set(err, ERR_TOO_LARGE, NULL, "line %zu: more than %zu fields",
                                 rec_line, lim->max_fields);
            char *f =
                s.p < len && data[s.p] == '"' ? csv__quoted(&s, a, rec_line) : csv__plain(&s, a);
            if (f == NULL)
                return -1;
            scratch[nf++] = f;
            if (s.p < len && data[s.p] == ',') {
                s.p++;
                continue;
            }
            bl = csv__break_len(&s);
            s.p += bl;
            if (bl > 0)
                s.line++;
            break;
        }
        recs[nrec].line = rec_line;
        recs[nrec].n = nf;
        recs[nrec].fields = arena_alloc(a, nf * sizeof(char *));
        memcpy(recs[nrec].fields, scratch, nf * sizeof(char *));
        nrec++;
    }
    *out = recs;
    *n = nrec;
    return 0;
}
