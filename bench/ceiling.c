/*
 * bench_ceiling: a scenario's SQL driven straight at the engine, from N
 * threads that each block on their own connection, the way the server's
 * HTTP threads do. It runs the same scenario scripts as pgbench
 * (bench/sql/NAME.sql) for a fixed time and prints the transactions per
 * second.
 *
 *   bench_ceiling (--db PATH | --url postgres://...) --threads N --seconds S -f SCRIPT
 *                 [-D name=value]...
 *
 * On SQLite (--db) it is the ceiling the API is compared with: each
 * connection is opened as the server's driver opens it (WAL, foreign keys,
 * synchronous=NORMAL, the same busy timeout). On PostgreSQL (--url) run.sh
 * uses pgbench for the ceiling; this mode is the check that blocking
 * threads, one statement at a time, are not what holds the server back
 * (docs/benchmarks.md): each statement is prepared once per connection and
 * run with PQexecPrepared, as db/driver_pgsql.c does.
 *
 * The script language is the subset of pgbench's that the scenarios use:
 *   -- comment
 *   \set NAME EXPR        EXPR: numbers, :vars, random(a, b), + - * / %
 *   \if EXPR = EXPR ... \endif
 *   SQL ending in ';', or followed by \gset (columns become variables)
 * Variables are strings, as in pgbench; :client_id is the thread's number.
 * On SQLite, PostgreSQL-only `::type` casts and `FOR UPDATE` clauses are
 * dropped, as the stores' SQLite texts drop them; BEGIN opens the transaction with BEGIN IMMEDIATE,
 * as db_begin_write() does on SQLite; gen_random_uuid() makes a UUIDv7.
 *
 * Output, one line: RESULT tps=X transactions=N failed=F rows_per_tx=R p50_ms=A p99_ms=B
 */
#include "base/alloc.h"
#include "base/timeutil.h"
#include "base/uuid.h"

#include <ctype.h>
#include <errno.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CEIL_BUSY_TIMEOUT_MS 5000 /* the SQLite driver's */
#define CEIL_MAX_VARS        64
#define CEIL_MAX_CMDS        64
#define CEIL_HIST_BUCKETS    20000 /* latency histogram: 10 us buckets up to 200 ms */
#define CEIL_HIST_US         10

static void ceil_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void ceil_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_ceiling: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* ---- the script ------------------------------------------------------------------ */

typedef enum ceil_kind { CEIL_SQL, CEIL_SET, CEIL_IF, CEIL_ENDIF } ceil_kind;

typedef struct ceil_cmd {
    ceil_kind kind;
    char *sql;     /* CEIL_SQL: with ?NNN (SQLite) or $NNN (PostgreSQL) parameters */
    char **params; /* CEIL_SQL: the variable bound to ?1, ?2 … */
    int nparams;
    bool gset;  /* CEIL_SQL: the one result row's columns become variables */
    bool begin; /* CEIL_SQL: the script's BEGIN */
    char *name; /* CEIL_SET */
    char *expr; /* CEIL_SET, CEIL_IF */
    int endif;  /* CEIL_IF: index of its \endif */
} ceil_cmd;

typedef struct ceil_script {
    ceil_cmd cmds[CEIL_MAX_CMDS];
    int n;
} ceil_script;

static bool ceil_is_ident(char ch)
{
    return isalnum((unsigned char)ch) || ch == '_';
}

/* Whether the scripts run on PostgreSQL (--url) rather than SQLite (--db). */
static bool ceil_pg;

/* Turns pgbench SQL into the engine's: :name becomes ?k on SQLite, where
 * ::type disappears, and $k on PostgreSQL. */
static void ceil_sql_cmd(ceil_cmd *c, const char *text)
{
    size_t n = strlen(text);
    char *out = xmalloc(n * 2 + 16);
    size_t o = 0;
    c->params = xcalloc(CEIL_MAX_VARS, sizeof(char *));
    bool quoted = false;
    for (size_t i = 0; i < n;) {
        char ch = text[i];
        if (ch == '\'')
            quoted = !quoted;
        if (!quoted && ch == ':' && text[i + 1] == ':') {
            if (ceil_pg) { /* keep the cast */
                memcpy(out + o, "::", 2);
                o += 2;
                i += 2;
                while (i < n && ceil_is_ident(text[i]))
                    out[o++] = text[i++];
                continue;
            }
            i += 2;
            while (i < n && ceil_is_ident(text[i]))
                i++;
            continue;
        }
        if (!quoted && ch == ':' && ceil_is_ident(text[i + 1])) {
            size_t start = ++i;
            while (i < n && ceil_is_ident(text[i]))
                i++;
            char *name = xstrndup(text + start, i - start);
            int k;
            for (k = 0; k < c->nparams && strcmp(c->params[k], name) != 0; k++)
                ;
            if (k == c->nparams) {
                if (c->nparams == CEIL_MAX_VARS)
                    ceil_die("too many variables in one statement");
                c->params[c->nparams++] = name;
            } else {
                free(name);
            }
            o += (size_t)sprintf(out + o, ceil_pg ? "$%d" : "?%d", k + 1);
            continue;
        }
        out[o++] = ch;
        i++;
    }
    while (o > 0 && (isspace((unsigned char)out[o - 1]) || out[o - 1] == ';'))
        o--;
    out[o] = '\0';
    if (!ceil_pg) { /* a row lock: SQLite has none, BEGIN IMMEDIATE locks it all */
        for (size_t i = 0; i < o; i++) {
            if (strncasecmp(out + i, " FOR UPDATE", 11) == 0) {
                out[i] = '\0';
                break;
            }
        }
    }
    c->kind = CEIL_SQL;
    c->sql = out;
    c->begin = strcasecmp(out, "BEGIN") == 0;
}

static char *ceil_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static void ceil_script_load(ceil_script *sc, const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        ceil_die("cannot read %s: %s", path, strerror(errno));
    char line[4096];
    size_t cap = 1 << 16, len = 0;
    char *sql = xmalloc(cap);
    int open_if = -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        char *l = ceil_trim(line);
        if (*l == '\0' || strncmp(l, "--", 2) == 0)
            continue;
        if (sc->n == CEIL_MAX_CMDS)
            ceil_die("%s: too many commands", path);
        ceil_cmd *c = &sc->cmds[sc->n];
        bool gset = false;
        size_t ll = strlen(l);
        if (ll >= 5 && strcmp(l + ll - 5, "\\gset") == 0) {
            if (len == 0 && ll == 5)
                ceil_die("%s: \\gset without a query before it", path);
            l[ll - 5] = '\0';
            l = ceil_trim(l);
            gset = true;
        }
        if (l[0] == '\\') {
            char *word = strtok(l, " \t"), *rest = strtok(NULL, "");
            if (strcmp(word, "\\set") == 0 && rest != NULL) {
                char *name = strtok(rest, " \t");
                char *expr = strtok(NULL, "");
                if (name == NULL || expr == NULL)
                    ceil_die("%s: \\set needs a name and an expression", path);
                c->kind = CEIL_SET;
                c->name = xstrdup(name);
                c->expr = xstrdup(ceil_trim(expr));
            } else if (strcmp(word, "\\if") == 0 && rest != NULL && open_if < 0) {
                c->kind = CEIL_IF;
                c->expr = xstrdup(rest);
                open_if = sc->n;
            } else if (strcmp(word, "\\endif") == 0 && open_if >= 0) {
                c->kind = CEIL_ENDIF;
                sc->cmds[open_if].endif = sc->n;
                open_if = -1;
            } else {
                ceil_die("%s: unsupported command %s", path, word);
            }
            sc->n++;
            continue;
        }
        size_t ln = strlen(l);
        if (len + ln + 2 > cap)
            sql = xrealloc(sql, cap = (len + ln + 2) * 2);
        if (len > 0 && ln > 0)
            sql[len++] = ' ';
        memcpy(sql + len, l, ln + 1);
        len += ln;
        if (gset || sql[len - 1] == ';') {
            ceil_sql_cmd(c, sql);
            c->gset = gset;
            sc->n++;
            len = 0;
        }
    }
    fclose(f);
    free(sql);
    if (len > 0)
        ceil_die("%s: the last statement has no ';'", path);
    if (open_if >= 0)
        ceil_die("%s: \\if without \\endif", path);
}

/* ---- variables and expressions ---------------------------------------------------- */

typedef struct ceil_var {
    char *name;
    char *value; /* NULL: SQL NULL */
} ceil_var;

typedef struct ceil_vars {
    ceil_var v[CEIL_MAX_VARS];
    int n;
} ceil_vars;

static ceil_var *ceil_var_find(ceil_vars *vs, const char *name)
{
    for (int i = 0; i < vs->n; i++)
        if (strcmp(vs->v[i].name, name) == 0)
            return &vs->v[i];
    return NULL;
}

static void ceil_var_set(ceil_vars *vs, const char *name, const char *value)
{
    ceil_var *v = ceil_var_find(vs, name);
    if (v == NULL) {
        if (vs->n == CEIL_MAX_VARS)
            ceil_die("too many variables");
        v = &vs->v[vs->n++];
        v->name = xstrdup(name);
    } else {
        free(v->value);
    }
    v->value = value ? xstrdup(value) : NULL;
}

typedef struct ceil_num {
    bool is_int;
    int64_t i;
    double d;
} ceil_num;

static double ceil_num_d(ceil_num n)
{
    return n.is_int ? (double)n.i : n.d;
}

typedef struct ceil_parser {
    const char *p;
    ceil_vars *vars;
    uint64_t *rng;
} ceil_parser;

static ceil_num ceil_expr(ceil_parser *ps);

static void ceil_skip(ceil_parser *ps)
{
    while (isspace((unsigned char)*ps->p))
        ps->p++;
}

static uint64_t ceil_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dULL;
}

static ceil_num ceil_parse_number(const char *s, const char *what)
{
    char *end;
    ceil_num n = {.is_int = true};
    errno = 0;
    n.i = strtoll(s, &end, 10);
    if (errno == 0 && end != s && *end == '\0')
        return n;
    n.is_int = false;
    n.d = strtod(s, &end);
    if (end == s || *end != '\0')
        ceil_die("%s is not a number: '%s'", what, s);
    return n;
}

static ceil_num ceil_term(ceil_parser *ps)
{
    ceil_skip(ps);
    if (*ps->p == '(') {
        ps->p++;
        ceil_num n = ceil_expr(ps);
        ceil_skip(ps);
        if (*ps->p++ != ')')
            ceil_die("missing ')'");
        return n;
    }
    if (*ps->p == ':') {
        const char *start = ++ps->p;
        while (ceil_is_ident(*ps->p))
            ps->p++;
        char name[64];
        snprintf(name, sizeof(name), "%.*s", (int)(ps->p - start), start);
        ceil_var *v = ceil_var_find(ps->vars, name);
        if (v == NULL || v->value == NULL)
            ceil_die("variable %s is not set", name);
        return ceil_parse_number(v->value, name);
    }
    if (strncmp(ps->p, "random(", 7) == 0) {
        ps->p += 7;
        ceil_num lo = ceil_expr(ps);
        ceil_skip(ps);
        if (*ps->p++ != ',')
            ceil_die("random() takes two arguments");
        ceil_num hi = ceil_expr(ps);
        ceil_skip(ps);
        if (*ps->p++ != ')')
            ceil_die("missing ')' after random(");
        ceil_num n = {.is_int = true};
        n.i = lo.i + (int64_t)(ceil_rand(ps->rng) % (uint64_t)(hi.i - lo.i + 1));
        return n;
    }
    const char *start = ps->p;
    while (isdigit((unsigned char)*ps->p) || *ps->p == '.')
        ps->p++;
    if (ps->p == start)
        ceil_die("cannot read the expression at '%s'", start);
    char buf[64];
    snprintf(buf, sizeof(buf), "%.*s", (int)(ps->p - start), start);
    return ceil_parse_number(buf, "a constant");
}

/* Left to right, * / % before + -, as far as the scripts need. */
static ceil_num ceil_product(ceil_parser *ps)
{
    ceil_num a = ceil_term(ps);
    for (;;) {
        ceil_skip(ps);
        char op = *ps->p;
        if (op != '*' && op != '/' && op != '%')
            return a;
        ps->p++;
        ceil_num b = ceil_term(ps);
        if (a.is_int && b.is_int) {
            if (op != '*' && b.i == 0)
                ceil_die("division by zero");
            a.i = op == '*' ? a.i * b.i : op == '/' ? a.i / b.i : a.i % b.i;
        } else {
            double x = ceil_num_d(a), y = ceil_num_d(b);
            a.is_int = false;
            a.d = op == '*' ? x * y : x / y;
        }
    }
}

static ceil_num ceil_expr(ceil_parser *ps)
{
    ceil_num a = ceil_product(ps);
    for (;;) {
        ceil_skip(ps);
        char op = *ps->p;
        if (op != '+' && op != '-')
            return a;
        ps->p++;
        ceil_num b = ceil_product(ps);
        if (a.is_int && b.is_int) {
            a.i = op == '+' ? a.i + b.i : a.i - b.i;
        } else {
            double x = ceil_num_d(a), y = ceil_num_d(b);
            a.is_int = false;
            a.d = op == '+' ? x + y : x - y;
        }
    }
}

static ceil_num ceil_eval(const char *expr, ceil_vars *vars, uint64_t *rng)
{
    ceil_parser ps = {.p = expr, .vars = vars, .rng = rng};
    ceil_num n = ceil_expr(&ps);
    ceil_skip(&ps);
    if (*ps.p == '=') {
        ps.p++;
        ceil_num m = ceil_expr(&ps);
        ceil_num r = {.is_int = true, .i = ceil_num_d(n) == ceil_num_d(m)};
        n = r;
        ceil_skip(&ps);
    }
    if (*ps.p != '\0')
        ceil_die("cannot read the end of '%s'", expr);
    return n;
}

/* ---- one client ------------------------------------------------------------------ */

typedef struct ceil_client {
    pthread_t thread;
    int id;
    const char *path; /* the SQLite file, or the PostgreSQL URL */
    const ceil_script *script;
    const ceil_vars *defines;
    int64_t deadline;
    uint64_t transactions, failed, rows;
    uint64_t hist[CEIL_HIST_BUCKETS];
} ceil_client;

static void ceil_uuid_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    char id[UUID_STR_LEN + 1];
    uuid_v7(id);
    sqlite3_result_text(ctx, id, -1, SQLITE_TRANSIENT);
}

static sqlite3 *ceil_open(const char *path)
{
    sqlite3 *h = NULL;
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        ceil_die("cannot open %s: %s", path, h ? sqlite3_errmsg(h) : "out of memory");
    sqlite3_busy_timeout(h, CEIL_BUSY_TIMEOUT_MS);
    char *msg = NULL;
    if (sqlite3_exec(h,
                     "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;",
                     NULL, NULL, &msg) != SQLITE_OK)
        ceil_die("cannot set up %s: %s", path, msg);
    sqlite3_create_function(h, "gen_random_uuid", 0, SQLITE_UTF8, NULL, ceil_uuid_fn, NULL, NULL);
    return h;
}

/* Binds a variable as pgbench's text would be read: integers and reals as
 * numbers (so comparisons with INTEGER and REAL columns behave), the rest as text. */
static void ceil_bind(sqlite3_stmt *st, int i, const char *v)
{
    if (v == NULL) {
        sqlite3_bind_null(st, i);
        return;
    }
    size_t n = strlen(v);
    char *end;
    if (n > 0 && n < 19) {
        errno = 0;
        long long x = strtoll(v, &end, 10);
        if (errno == 0 && *end == '\0') {
            sqlite3_bind_int64(st, i, x);
            return;
        }
        double d = strtod(v, &end);
        if (*end == '\0' && strpbrk(v, ".eE") != NULL && isdigit((unsigned char)v[0])) {
            sqlite3_bind_double(st, i, d);
            return;
        }
    }
    sqlite3_bind_text(st, i, v, (int)n, SQLITE_TRANSIENT);
}

/* Runs one statement to completion; false on an engine error. */
static bool ceil_run_sql(sqlite3 *h, sqlite3_stmt *st, const ceil_cmd *c, ceil_vars *vars,
                         uint64_t *nrows)
{
    for (int k = 0; k < c->nparams; k++) {
        ceil_var *v = ceil_var_find(vars, c->params[k]);
        if (v == NULL)
            ceil_die("variable %s is not set (pass it with -D)", c->params[k]);
        ceil_bind(st, k + 1, v->value);
    }
    int rc, rows = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int ncol = sqlite3_column_count(st);
        for (int k = 0; k < ncol; k++) {
            const char *text = (const char *)sqlite3_column_text(st, k);
            if (c->gset && rows == 0)
                ceil_var_set(vars, sqlite3_column_name(st, k), text);
        }
        rows++;
    }
    *nrows += (uint64_t)rows;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "bench_ceiling: %s\n", sqlite3_errmsg(h));
        return false;
    }
    if (c->gset && rows != 1)
        ceil_die("\\gset query returned %d rows: %s", rows, c->sql);
    return true;
}

/* ---- PostgreSQL ------------------------------------------------------------------- */

static PGconn *ceil_pg_open(const char *url, const ceil_script *sc)
{
    PGconn *pg = PQconnectdb(url);
    if (PQstatus(pg) != CONNECTION_OK)
        ceil_die("cannot connect to %s: %s", url, PQerrorMessage(pg));
    for (int i = 0; i < sc->n; i++) {
        const ceil_cmd *c = &sc->cmds[i];
        if (c->kind != CEIL_SQL || c->begin || strcasecmp(c->sql, "COMMIT") == 0)
            continue;
        char name[16];
        snprintf(name, sizeof(name), "s%d", i);
        PGresult *r = PQprepare(pg, name, c->sql, 0, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            ceil_die("cannot prepare '%s': %s", c->sql, PQresultErrorMessage(r));
        PQclear(r);
    }
    return pg;
}

/* Runs statement i like the server's driver: prepared, text parameters,
 * one blocking round trip; BEGIN and COMMIT as simple queries. */
static bool ceil_pg_run(PGconn *pg, int i, const ceil_cmd *c, ceil_vars *vars, uint64_t *nrows)
{
    PGresult *r;
    if (c->begin || strcasecmp(c->sql, "COMMIT") == 0) {
        r = PQexec(pg, c->sql);
    } else {
        const char *values[CEIL_MAX_VARS];
        for (int k = 0; k < c->nparams; k++) {
            ceil_var *v = ceil_var_find(vars, c->params[k]);
            if (v == NULL)
                ceil_die("variable %s is not set (pass it with -D)", c->params[k]);
            values[k] = v->value;
        }
        char name[16];
        snprintf(name, sizeof(name), "s%d", i);
        r = PQexecPrepared(pg, name, c->nparams, values, NULL, NULL, 0);
    }
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        fprintf(stderr, "bench_ceiling: %s", PQresultErrorMessage(r));
        PQclear(r);
        return false;
    }
    int rows = PQntuples(r);
    if (c->gset) {
        if (rows != 1)
            ceil_die("\\gset query returned %d rows: %s", rows, c->sql);
        for (int k = 0; k < PQnfields(r); k++)
            ceil_var_set(vars, PQfname(r, k), PQgetisnull(r, 0, k) ? NULL : PQgetvalue(r, 0, k));
    }
    *nrows += (uint64_t)rows;
    PQclear(r);
    return true;
}

/* ---- the clients ------------------------------------------------------------------- */

static void *ceil_client_main(void *arg)
{
    ceil_client *cl = arg;
    const ceil_script *sc = cl->script;
    sqlite3 *h = NULL;
    PGconn *pg = NULL;
    sqlite3_stmt *st[CEIL_MAX_CMDS] = {0};
    if (ceil_pg) {
        pg = ceil_pg_open(cl->path, sc);
    } else {
        h = ceil_open(cl->path);
        for (int i = 0; i < sc->n; i++) {
            const ceil_cmd *c = &sc->cmds[i];
            if (c->kind != CEIL_SQL)
                continue;
            const char *sql = c->begin ? "BEGIN IMMEDIATE" : c->sql;
            if (sqlite3_prepare_v2(h, sql, -1, &st[i], NULL) != SQLITE_OK)
                ceil_die("cannot prepare '%s': %s", sql, sqlite3_errmsg(h));
        }
    }
    ceil_vars vars = *cl->defines;
    for (int i = 0; i < vars.n; i++) {
        vars.v[i].name = xstrdup(vars.v[i].name);
        vars.v[i].value = vars.v[i].value ? xstrdup(vars.v[i].value) : NULL;
    }
    char id[16];
    snprintf(id, sizeof(id), "%d", cl->id);
    ceil_var_set(&vars, "client_id", id);
    uint64_t rng = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)(cl->id + 1) * 0x100000001b3ULL);

    while (time_mono_usec() < cl->deadline) {
        int64_t t0 = time_mono_usec();
        bool ok = true;
        for (int i = 0; i < sc->n && ok; i++) {
            const ceil_cmd *c = &sc->cmds[i];
            switch (c->kind) {
            case CEIL_SQL:
                ok = pg ? ceil_pg_run(pg, i, c, &vars, &cl->rows)
                        : ceil_run_sql(h, st[i], c, &vars, &cl->rows);
                break;
            case CEIL_SET: {
                ceil_num n = ceil_eval(c->expr, &vars, &rng);
                char buf[64];
                if (n.is_int)
                    snprintf(buf, sizeof(buf), "%lld", (long long)n.i);
                else
                    snprintf(buf, sizeof(buf), "%.15g", n.d);
                ceil_var_set(&vars, c->name, buf);
                break;
            }
            case CEIL_IF:
                if (ceil_eval(c->expr, &vars, &rng).i == 0)
                    i = c->endif;
                break;
            case CEIL_ENDIF:
                break;
            }
        }
        if (!ok) {
            if (pg != NULL && PQtransactionStatus(pg) != PQTRANS_IDLE)
                PQclear(PQexec(pg, "ROLLBACK"));
            if (h != NULL && !sqlite3_get_autocommit(h))
                sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
            cl->failed++;
            continue;
        }
        int64_t us = time_mono_usec() - t0;
        int64_t b = us / CEIL_HIST_US;
        cl->hist[b < CEIL_HIST_BUCKETS ? b : CEIL_HIST_BUCKETS - 1]++;
        cl->transactions++;
    }
    for (int i = 0; i < sc->n; i++)
        sqlite3_finalize(st[i]);
    sqlite3_close(h);
    PQfinish(pg);
    for (int i = 0; i < vars.n; i++) {
        free(vars.v[i].name);
        free(vars.v[i].value);
    }
    return NULL;
}

static double ceil_percentile(const uint64_t *hist, uint64_t total, double pct)
{
    uint64_t want = (uint64_t)((double)total * pct / 100.0), seen = 0;
    for (int b = 0; b < CEIL_HIST_BUCKETS; b++) {
        seen += hist[b];
        if (seen > want)
            return (b + 0.5) * CEIL_HIST_US / 1000.0;
    }
    return CEIL_HIST_BUCKETS * CEIL_HIST_US / 1000.0;
}

static void ceil_usage(void)
{
    fputs("usage: bench_ceiling (--db PATH | --url postgres://...) --threads N --seconds S "
          "-f SCRIPT [-D name=value]...\n"
          "Runs a pgbench-style scenario script straight at SQLite or PostgreSQL and prints\n"
          "RESULT tps=X transactions=N failed=F rows_per_tx=R p50_ms=A p99_ms=B\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *path = NULL, *script_path = NULL;
    int threads = 0;
    double seconds = 0;
    static ceil_vars defines;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            path = argv[++i];
            ceil_pg = false;
        } else if (strcmp(argv[i], "--url") == 0 && i + 1 < argc) {
            path = argv[++i];
            ceil_pg = true;
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            threads = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            seconds = strtod(argv[++i], NULL);
        } else if (strcmp(argv[i], "-f") == 0 && i + 1 < argc) {
            script_path = argv[++i];
        } else if (strcmp(argv[i], "-D") == 0 && i + 1 < argc) {
            char *def = argv[++i], *eq = strchr(def, '=');
            if (eq == NULL || eq == def)
                ceil_usage();
            *eq = '\0';
            ceil_var_set(&defines, def, eq + 1);
        } else {
            ceil_usage();
        }
    }
    if (path == NULL || script_path == NULL || threads < 1 || threads > 256 || !(seconds > 0))
        ceil_usage();
    static ceil_script script;
    ceil_script_load(&script, script_path);

    ceil_client *clients = xcalloc((size_t)threads, sizeof(ceil_client));
    int64_t start = time_mono_usec(), deadline = start + (int64_t)(seconds * 1e6);
    for (int i = 0; i < threads; i++) {
        clients[i] = (ceil_client){
            .id = i, .path = path, .script = &script, .defines = &defines, .deadline = deadline};
        if (pthread_create(&clients[i].thread, NULL, ceil_client_main, &clients[i]) != 0)
            ceil_die("cannot start a thread");
    }
    uint64_t total = 0, failed = 0, rows = 0;
    static uint64_t hist[CEIL_HIST_BUCKETS];
    for (int i = 0; i < threads; i++) {
        pthread_join(clients[i].thread, NULL);
        total += clients[i].transactions;
        failed += clients[i].failed;
        rows += clients[i].rows;
        for (int b = 0; b < CEIL_HIST_BUCKETS; b++)
            hist[b] += clients[i].hist[b];
    }
    double elapsed = (double)(time_mono_usec() - start) / 1e6;
    printf("RESULT tps=%.1f transactions=%llu failed=%llu rows_per_tx=%.1f p50_ms=%.3f "
           "p99_ms=%.3f\n",
           (double)total / elapsed, (unsigned long long)total, (unsigned long long)failed,
           total ? (double)rows / (double)total : 0.0, ceil_percentile(hist, total, 50),
           ceil_percentile(hist, total, 99));
    free(clients);
    return 0;
}
