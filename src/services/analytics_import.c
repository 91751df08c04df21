/*
 * The offline path of seed flow 4: a YouTube Studio analytics export (the
 * "by date" table, CSV) read by its header names, English or Portuguese
 * (Brazil), into DAY rows and their weeks. The headers understood are listed
 * in README ("Importing a YouTube Studio export"); decision 76 says why the
 * rules are what they are.
 */
#include "services/analytics_import.h"
#include "base/csv.h"
#include "base/text.h"
#include "base/timeutil.h"
#include "domain/limits.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum {
    COL_DATE,
    COL_VIEWS,
    COL_WATCH_HOURS,
    COL_SUBSCRIBERS,
    COL_SUBS_GAINED,
    COL_SUBS_LOST,
    COL_LIKES,
    COL_COMMENTS,
    COL_SHARES,
    COL_AVG_DURATION,
    COL_AVG_PERCENTAGE,
    COL_IMPRESSIONS,
    COL_CTR,
    COL_COUNT
} import__col;

/* Each column's header in English and in Portuguese (Brazil), compared
 * trimmed and without regard to ASCII case. */
static const char *const import__names[COL_COUNT][2] = {
    [COL_DATE] = {"Date", "Data"},
    [COL_VIEWS] = {"Views", "Visualizações"},
    [COL_WATCH_HOURS] = {"Watch time (hours)", "Tempo de exibição (horas)"},
    [COL_SUBSCRIBERS] = {"Subscribers", "Inscritos"},
    [COL_SUBS_GAINED] = {"Subscribers gained", "Inscritos obtidos"},
    [COL_SUBS_LOST] = {"Subscribers lost", "Inscritos perdidos"},
    [COL_LIKES] = {"Likes", "Marcações \"Gostei\""},
    [COL_COMMENTS] = {"Comments added", "Comentários adicionados"},
    [COL_SHARES] = {"Shares", "Compartilhamentos"},
    [COL_AVG_DURATION] = {"Average view duration", "Duração média da visualização"},
    [COL_AVG_PERCENTAGE] = {"Average percentage viewed (%)", "Porcentagem média visualizada (%)"},
    [COL_IMPRESSIONS] = {"Impressions", "Impressões"},
    [COL_CTR] = {"Impressions click-through rate (%)", "Taxa de cliques de impressões (%)"},
};

/* s without leading and trailing ASCII blanks, in a */
static char *import__trim(arena *a, const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return arena_strndup(a, s, n);
}

static int import__col_of(const char *h)
{
    for (int c = 0; c < COL_COUNT; c++)
        for (int l = 0; l < 2; l++)
            if (strcasecmp(h, import__names[c][l]) == 0)
                return c;
    return -1;
}

/* A whole number, optionally negative when neg_ok; "" is 0. */
static bool import__int(const char *s, bool neg_ok, int64_t *out)
{
    if (*s == '\0') {
        *out = 0;
        return true;
    }
    const char *d = s;
    if (*d == '-' && neg_ok)
        d++;
    if (*d == '\0' || strlen(d) > 15)
        return false;
    for (const char *q = d; *q; q++)
        if (!isdigit((unsigned char)*q))
            return false;
    *out = strtoll(s, NULL, 10);
    return true;
}

/* A finite decimal with a point: digits, at most one '.', no sign. */
static bool import__real(const char *s, double *out)
{
    size_t digits = 0, points = 0;
    for (const char *q = s; *q; q++) {
        if (isdigit((unsigned char)*q))
            digits++;
        else if (*q == '.')
            points++;
        else
            return false;
    }
    if (digits == 0 || points > 1 || strlen(s) > 30)
        return false;
    errno = 0;
    *out = strtod(s, NULL);
    return errno == 0 && isfinite(*out);
}

/* H:MM:SS or M:SS (or plain seconds) into seconds. */
static bool import__duration(const char *s, double *out)
{
    int64_t part[3];
    int n = 0;
    const char *q = s;
    for (;;) {
        const char *colon = strchr(q, ':');
        size_t k = colon ? (size_t)(colon - q) : strlen(q);
        char digits[16];
        if (n == 3 || k == 0 || k >= sizeof(digits))
            return false;
        memcpy(digits, q, k);
        digits[k] = '\0';
        if (!import__int(digits, false, &part[n]))
            return false;
        if (n > 0 && (k != 2 || part[n] > 59))
            return false;
        n++;
        if (colon == NULL)
            break;
        q = colon + 1;
    }
    double sec = 0;
    for (int i = 0; i < n; i++)
        sec = sec * 60 + (double)part[i];
    *out = sec;
    return true;
}

typedef struct import__ctx {
    arena *a;
    analytics_import_report *rep;
} import__ctx;

static void import__reject(import__ctx *x, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void import__reject(import__ctx *x, size_t line, const char *fmt, ...)
{
    analytics_import_reject *r = &x->rep->rejected[x->rep->n_rejected++];
    va_list ap;
    va_start(ap, fmt);
    r->line = line;
    r->reason = arena_vsprintf(x->a, fmt, ap);
    va_end(ap);
}

typedef struct analytics_import__row import__row;

/* One record into *out; false (and the record rejected) on a bad value. */
static bool import__record(import__ctx *x, const csv_record *rec, const int *at, bool reach,
                           int64_t today, import__row *out)
{
    analytics_row *r = &out->r;
    const char *v[COL_COUNT];
    for (int c = 0; c < COL_COUNT; c++)
        v[c] = at[c] >= 0 && (size_t)at[c] < rec->n ? import__trim(x->a, rec->fields[at[c]]) : NULL;
    if (!time_day_parse(v[COL_DATE], &out->day)) {
        import__reject(x, rec->line, "%s is not a date written YYYY-MM-DD", "the date");
        return false;
    }
    if (out->day > today) {
        import__reject(x, rec->line, "%s is after today", "the date");
        return false;
    }
    time_day_format(out->day, r->date);
    struct {
        int col;
        int64_t *dst;
        const char *name;
    } counts[] = {
        {COL_VIEWS, &r->views, "views"},
        {COL_LIKES, &r->likes, "likes"},
        {COL_COMMENTS, &r->comments, "comments"},
        {COL_SHARES, &r->shares, "shares"},
        {COL_SUBS_GAINED, &r->subscribers_gained, "subscribers gained"},
        {COL_SUBS_LOST, &r->subscribers_lost, "subscribers lost"},
    };
    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        *counts[i].dst = 0;
        if (v[counts[i].col] != NULL && !import__int(v[counts[i].col], false, counts[i].dst)) {
            import__reject(x, rec->line, "%s is not a whole number of at least 0", counts[i].name);
            return false;
        }
    }
    if (at[COL_SUBS_GAINED] < 0 && at[COL_SUBS_LOST] < 0 && v[COL_SUBSCRIBERS] != NULL) {
        int64_t net;
        if (!import__int(v[COL_SUBSCRIBERS], true, &net)) {
            import__reject(x, rec->line, "%s is not a whole number", "subscribers");
            return false;
        }
        r->subscribers_gained = net > 0 ? net : 0;
        r->subscribers_lost = net < 0 ? -net : 0;
    }
    r->watch_time_minutes = 0;
    if (v[COL_WATCH_HOURS] != NULL && *v[COL_WATCH_HOURS] != '\0') {
        double h;
        if (!import__real(v[COL_WATCH_HOURS], &h)) {
            import__reject(x, rec->line, "%s is not a number of hours", "the watch time");
            return false;
        }
        r->watch_time_minutes = h * 60;
    }
    r->avg_view_duration_seconds = -1;
    if (v[COL_AVG_DURATION] != NULL && *v[COL_AVG_DURATION] != '\0' &&
        !import__duration(v[COL_AVG_DURATION], &r->avg_view_duration_seconds)) {
        import__reject(x, rec->line, "%s is not a duration written H:MM:SS",
                       "the average view duration");
        return false;
    }
    r->avg_retention = -1;
    if (v[COL_AVG_PERCENTAGE] != NULL && *v[COL_AVG_PERCENTAGE] != '\0' &&
        !import__real(v[COL_AVG_PERCENTAGE], &r->avg_retention)) {
        import__reject(x, rec->line, "%s is not a number", "the average percentage viewed");
        return false;
    }
    r->impressions = -1;
    r->avg_ctr = -1;
    if (reach) {
        if (*v[COL_IMPRESSIONS] != '\0' &&
            !import__int(v[COL_IMPRESSIONS], false, &r->impressions)) {
            import__reject(x, rec->line, "%s is not a whole number of at least 0", "impressions");
            return false;
        }
        if (*v[COL_CTR] != '\0' && !import__real(v[COL_CTR], &r->avg_ctr)) {
            import__reject(x, rec->line, "%s is not a number", "the click-through rate");
            return false;
        }
    }
    error e;
    if (row_check(&analytics_row_spec, r,
                  "views, likes, comments, shares, watch_time_minutes, "
                  "avg_view_duration_seconds, avg_retention, avg_ctr, impressions, "
                  "subscribers_gained, subscribers_lost",
                  &e) != 0) {
        import__reject(x, rec->line, "%s", e.message);
        return false;
    }
    out->line = rec->line;
    return true;
}

static int import__by_day(const void *pa, const void *pb)
{
    const import__row *a = pa, *b = pb;
    if (a->day != b->day)
        return a->day < b->day ? -1 : 1;
    return a->line < b->line ? -1 : a->line > b->line;
}

static int import__by_line(const void *pa, const void *pb)
{
    const analytics_import_reject *a = pa, *b = pb;
    return a->line < b->line ? -1 : a->line > b->line;
}

typedef struct import__tx {
    arena *a;
    const char *user_id, *channel_id;
    const import__row *rows;
    size_t n;
    bool reach;
    analytics_import_report *rep;
} import__tx;

static int import__body(db_conn *c, void *arg, error *err)
{
    import__tx *tx = arg;
    /* The channel's row lock: one writer of its weeks at a time
     * (analytics_service.c says why). */
    channel ch;
    if (channel_store_get(c, tx->a, tx->user_id, tx->channel_id, true, NULL, &ch, err) != 0)
        return -1;
    tx->rep->imported = tx->rep->unchanged = 0;
    int64_t now = time_now_usec(), last_monday = INT64_MIN;
    for (size_t i = 0; i < tx->n; i++) {
        bool changed;
        if ((tx->reach ? analytics_store_upsert_day_reach(c, &tx->rows[i].r, &changed, err)
                       : analytics_store_upsert_day(c, &tx->rows[i].r, &changed, err)) != 0)
            return -1;
        if (changed)
            tx->rep->imported++;
        else
            tx->rep->unchanged++;
    }
    /* Where the Reporting API gave a day's reach, it wins over the file's
     * (decision 78). */
    if (tx->n > 0 && analytics_store_merge_reach(c, tx->user_id, tx->channel_id, tx->rows[0].day,
                                                 tx->rows[tx->n - 1].day, now, err) != 0)
        return -1;
    for (size_t i = 0; i < tx->n; i++) { /* rows are in date order */
        int64_t mon = time_day_monday(tx->rows[i].day);
        if (mon == last_monday)
            continue;
        last_monday = mon;
        if (analytics_store_rollup_week(c, tx->user_id, tx->channel_id, mon, now, err) != 0)
            return -1;
    }
    return 0;
}

int analytics_import__parse(arena *a, const char *user_id, const char *channel_id, const char *data,
                            size_t len, analytics_import_report *out,
                            analytics_import__rows *rows_r, error *err)
{
    memset(out, 0, sizeof(*out));
    memset(rows_r, 0, sizeof(*rows_r));
    if (len > ANALYTICS_IMPORT_MAX_BYTES)
        return error_set(err, ERR_TOO_LARGE, NULL, "a CSV import holds at most %d bytes",
                         ANALYTICS_IMPORT_MAX_BYTES);
    if (!utf8_valid(data, len))
        return error_set(err, ERR_INVALID, NULL, "the CSV is not UTF-8 text");
    csv_limits lim = {ANALYTICS_IMPORT_MAX_ROWS, 64, 256};
    csv_record *recs;
    size_t nrec;
    if (csv_parse(a, data, len, &lim, &recs, &nrec, err) != 0)
        return -1;
    if (nrec == 0)
        return error_set(err, ERR_INVALID, "Date", "the CSV is empty: it needs a header line");

    /* The header: each known column once; the rest ignored and listed. */
    int at[COL_COUNT];
    for (int i = 0; i < COL_COUNT; i++)
        at[i] = -1;
    out->ignored_columns = arena_alloc(a, recs[0].n * sizeof(char *));
    for (size_t i = 0; i < recs[0].n; i++) {
        char *h = import__trim(a, recs[0].fields[i]);
        int col = import__col_of(h);
        if (col >= 0 && at[col] >= 0)
            return error_set(err, ERR_INVALID, import__names[col][0],
                             "line %zu: the column \"%s\" appears twice", recs[0].line, h);
        if (col >= 0)
            at[col] = (int)i;
        else
            out->ignored_columns[out->n_ignored++] = h;
    }
    if (at[COL_DATE] < 0)
        return error_set(err, ERR_INVALID, "Date",
                         "line %zu: no \"Date\" (\"Data\") column; export the table by date",
                         recs[0].line);
    /* Impressions and CTR are stored together or not at all: a file with
     * one of them only leaves both as they are. */
    bool reach = at[COL_IMPRESSIONS] >= 0 && at[COL_CTR] >= 0;
    for (int col = COL_IMPRESSIONS; !reach && col <= COL_CTR; col++)
        if (at[col] >= 0)
            out->ignored_columns[out->n_ignored++] = import__trim(a, recs[0].fields[at[col]]);

    import__ctx x = {a, out};
    out->rejected = arena_alloc(a, nrec * sizeof(*out->rejected));
    import__row *rows = arena_calloc(a, nrec * sizeof(*rows));
    size_t n = 0;
    int64_t today = time_day_of(time_now_usec());
    for (size_t i = 1; i < nrec; i++) {
        const csv_record *rec = &recs[i];
        const char *d = (size_t)at[COL_DATE] < rec->n ? rec->fields[at[COL_DATE]] : "";
        char *dt = import__trim(a, d);
        if (strcasecmp(dt, "Total") == 0 && out->total_line == 0) {
            out->total_line = rec->line;
            continue;
        }
        if (rec->n != recs[0].n) {
            char what[64];
            snprintf(what, sizeof(what), "%zu fields where the header has %zu", rec->n, recs[0].n);
            import__reject(&x, rec->line, "%s", what);
            continue;
        }
        import__row *r = &rows[n];
        uuid_v7(r->r.id);
        snprintf(r->r.channel_id, sizeof(r->r.channel_id), "%s", channel_id);
        snprintf(r->r.user_id, sizeof(r->r.user_id), "%s", user_id);
        r->r.period = ANALYTICS_DAY;
        r->r.created_at = r->r.updated_at = time_now_usec();
        if (import__record(&x, rec, at, reach, today, r))
            n++;
    }
    /* In date order; of two rows of one day the later line is refused. */
    qsort(rows, n, sizeof(*rows), import__by_day);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (kept > 0 && rows[kept - 1].day == rows[i].day) {
            char what[80];
            snprintf(what, sizeof(what), "line %zu", rows[kept - 1].line);
            import__reject(&x, rows[i].line, "the same date as %s", what);
            continue;
        }
        rows[kept++] = rows[i];
    }
    qsort(out->rejected, out->n_rejected, sizeof(*out->rejected), import__by_line);
    if (kept == 0)
        return error_set(err, ERR_INVALID, NULL,
                         out->n_rejected > 0 ? "every row was rejected; nothing was imported"
                                             : "the CSV has no row of data");
    rows_r->rows = rows;
    rows_r->n = kept;
    rows_r->reach = reach;
    return 0;
}

int analytics_service_import_csv(db_conn *c, arena *a, const principal *p, const char *channel_id,
                                 const char *data, size_t len, analytics_import_report *out,
                                 error *err)
{
    memset(out, 0, sizeof(*out));
    channel ch;
    if (channel_store_get(c, a, p->user_id, channel_id, false, NULL, &ch, err) != 0)
        return -1;
    analytics_import__rows rows;
    if (analytics_import__parse(a, p->user_id, ch.id, data, len, out, &rows, err) != 0)
        return -1;
    import__tx tx = {a, p->user_id, ch.id, rows.rows, rows.n, rows.reach, out};
    return db_tx(c, import__body, &tx, err);
}
