/*
 * bench_gen: fills an empty Persona Studio database, SQLite or PostgreSQL, at
 * the seed's first-year scale (seed § Storage Estimates) for the API
 * benchmark: 100 personas (~5 KB instructions), 500 persona_history rows,
 * 10K channels, 100K projects (~2 KB each) with 6 scenes each, 300K
 * channel_analytics DAY rows and 500K persona_usage_logs, owned by ~1000 users.
 * Every channel has a persona assignment from before the analytics range (a
 * few only from inside it, so their first days are unattributed), and a
 * third of them switch persona once at an instant inside the range: the
 * persona-performance benchmark (perf.sh) reads them as the service does.
 * Usage logs name the persona of their project, so each persona has its own.
 *
 * One of the users is the benchmark's caller, a heavy user on the pro plan
 * with 64 custom personas (one per load connection, so concurrent updates
 * never race for one row), 10 channels and 100 projects. Its session token is
 * written to <out>/bench.env, beside the ids the load scripts need and a
 * persona snapshot of realistic size for the update scenario's ceiling.
 *
 * The data is synthetic but shaped like the real thing: UUIDv7 ids that carry
 * their row's creation time (spread over the past year), texts of realistic
 * length, JSON snapshots of the personas. It is deterministic for a given
 * --seed. Rows go in as multi-row INSERTs inside large transactions through
 * the db/ layer, so one program serves both engines.
 *
 *   bench_gen --url URL --out DIR [--scale F] [--seed N]
 */
#include "base/alloc.h"
#include "base/timeutil.h"
#include "base/uuid.h"
#include "db/db.h"
#include "db/migrate.h"
#include "domain/session_store.h"
#include "services/password.h"
#include "services/performance_service.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define GEN_OTHER_USERS        1000
#define GEN_SYSTEM_EXTRA       4   /* SYSTEM personas beside the 16 the migrations ship */
#define GEN_BENCH_PERSONAS     64  /* one per load connection */
#define GEN_OTHER_PERSONAS     16  /* custom personas of other users: 16 + 4 + 64 + 16 = 100 */
#define GEN_HISTORY_TOTAL      500 /* including the 16 starter rows */
#define GEN_STARTER_PERSONAS   16
#define GEN_BENCH_CHANNELS     10
#define GEN_BENCH_PROJECTS     100
#define GEN_CHANNELS           10000
#define GEN_PROJECTS           100000
#define GEN_SCENES_PER_PROJECT 6
#define GEN_ANALYTICS_DAYS     30
#define GEN_USAGE_LOGS         500000
#define GEN_CHUNK              200 /* projects whose scenes are written together */
#define GEN_FLUSHES_PER_TX     100 /* statements per transaction */
#define GEN_DAY_USEC           (86400LL * 1000000LL)
#define GEN_SWITCH_ONE_IN      3  /* channels that switch persona inside the range */
#define GEN_LATE_ONE_IN        25 /* channels first assigned inside the range */

/* ---- failure ---------------------------------------------------------------- */

static void gen_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void gen_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_gen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* ---- deterministic randomness and text --------------------------------------- */

static uint64_t gen_rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t gen_rand(void)
{
    uint64_t x = gen_rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    gen_rng_state = x;
    return x * 0x2545f4914f6cdd1dULL;
}

/* A uniform integer in [lo, hi]. */
static int64_t gen_range(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(gen_rand() % (uint64_t)(hi - lo + 1));
}

static double gen_unit(void)
{
    return (double)(gen_rand() >> 11) / 9007199254740992.0;
}

static const char *const gen_words[] = {
    "the",      "history",  "of",        "ancient",   "rome",       "ocean",    "deep",
    "mystery",  "science",  "explains",  "why",       "stars",      "burn",     "bright",
    "money",    "habits",   "that",      "build",     "wealth",     "quietly",  "over",
    "time",     "a",        "story",     "about",     "courage",    "and",      "loss",
    "scene",    "opens",    "on",        "foggy",     "harbor",     "at",       "dawn",
    "camera",   "slowly",   "pushes",    "toward",    "lighthouse", "narrator", "explains",
    "how",      "ships",    "found",     "their",     "way",        "before",   "radar",
    "planets",  "orbit",    "sun",       "in",        "ellipses",   "gravity",  "bends",
    "light",    "around",   "black",     "holes",     "viewers",    "learn",    "simple",
    "idea",     "every",    "day",       "small",     "steps",      "compound", "into",
    "big",      "results",  "empire",    "fell",      "because",    "of",       "debt",
    "plague",   "politics", "forgotten", "cities",    "under",      "sand",     "desert",
    "wind",     "carved",   "stone",     "faces",     "river",      "valley",   "farmers",
    "planted",  "wheat",    "ten",       "thousand",  "years",      "ago",      "today",
    "we",       "still",    "eat",       "bread",     "made",       "same",     "grain",
    "close",    "shot",     "warm",      "lighting",  "soft",       "focus",    "wide",
    "aerial",   "view",     "mountains", "covered",   "snow",       "quiet",    "music",
    "builds",   "tension",  "while",     "clock",     "ticks",      "investor", "learns",
    "patience", "pays",     "market",    "crash",     "teaches",    "hard",     "lesson",
    "curious",  "minds",    "ask",       "questions", "answers",    "surprise", "everyone",
};
#define GEN_NWORDS (sizeof(gen_words) / sizeof(gen_words[0]))

/* Writes words, with full stops and the odd paragraph break, until out holds
 * about len characters; out must have room for len + 32 bytes. */
static void gen_text(char *out, size_t len)
{
    size_t n = 0;
    int words = 0;
    bool cap = true;
    while (n < len) {
        const char *w = gen_words[gen_rand() % GEN_NWORDS];
        size_t wl = strlen(w);
        if (n > 0 && out[n - 1] != '\n')
            out[n++] = ' ';
        memcpy(out + n, w, wl);
        if (cap)
            out[n] = (char)(out[n] - 'a' + 'A');
        n += wl;
        cap = false;
        if (++words > 8 && gen_rand() % 6 == 0) {
            out[n++] = '.';
            words = 0;
            cap = true;
            if (gen_rand() % 8 == 0) {
                out[n++] = '\n';
                out[n++] = '\n';
            }
        }
    }
    while (out[n - 1] == '\n')
        n--;
    if (out[n - 1] != '.')
        out[n++] = '.';
    out[n] = '\0';
}

/* A UUIDv7 whose timestamp is the given time, so ids sort like created_at. */
static void gen_uuid_at(int64_t usec, char out[UUID_STR_LEN + 1])
{
    uint64_t ms = (uint64_t)(usec / 1000);
    uint64_t r1 = gen_rand(), r2 = gen_rand();
    snprintf(out, UUID_STR_LEN + 1, "%08x-%04x-7%03x-%04x-%012llx", (unsigned)(ms >> 16),
             (unsigned)(ms & 0xffff), (unsigned)(r1 & 0xfff),
             (unsigned)(0x8000 | ((r1 >> 12) & 0x3fff)),
             (unsigned long long)(r2 & 0xffffffffffffULL));
}

/* ---- batched INSERTs ------------------------------------------------------------ */

/*
 * Rows are gathered as a JSON array and inserted by one statement with a
 * single parameter: the db layer binds at most DB_MAX_PARAMS values per
 * statement, and one round trip per row would make PostgreSQL loads slow.
 * Each engine unpacks the array with its own JSON functions.
 */
typedef struct gen_batch {
    db_conn *c;
    const char *table;
    char *list; /* the column list, split in place into cols */
    const char **cols;
    char *sql_sqlite, *sql_pg;
    int ncols, col;
    db_sql stmt;
    json_t *rows, *row;
    size_t bytes;
    int64_t total;
} gen_batch;

#define GEN_BATCH_ROWS  1000
#define GEN_BATCH_BYTES (4u << 20)

static int gen_flushes;

static void gen_batch_init(gen_batch *b, db_conn *c, const char *table, const char *cols)
{
    memset(b, 0, sizeof(*b));
    b->c = c;
    b->table = table;
    b->list = xstrdup(cols);
    b->cols = xcalloc(64, sizeof(char *));
    for (char *save = NULL, *tok = strtok_r(b->list, ", ", &save); tok != NULL;
         tok = strtok_r(NULL, ", ", &save))
        b->cols[b->ncols++] = tok;
    size_t cap = 256 + strlen(table) * 2 + strlen(cols) * 2 + (size_t)b->ncols * 24;
    char *lite = xmalloc(cap), *pg = xmalloc(cap);
    size_t n = (size_t)snprintf(lite, cap, "INSERT INTO %s (%s) SELECT ", table, cols);
    for (int k = 0; k < b->ncols; k++)
        n += (size_t)snprintf(lite + n, cap - n, "%svalue ->> '%s'", k ? ", " : "", b->cols[k]);
    snprintf(lite + n, cap - n, " FROM json_each($1)");
    snprintf(pg, cap, "INSERT INTO %s (%s) SELECT %s FROM json_populate_recordset(NULL::%s, $1)",
             table, cols, cols, table);
    b->sql_sqlite = lite;
    b->sql_pg = pg;
    b->stmt = (db_sql)DB_SQL2(lite, pg);
    b->rows = json_array();
}

static void gen_tx_tick(db_conn *c)
{
    if (++gen_flushes % GEN_FLUSHES_PER_TX != 0)
        return;
    db_error de;
    if (db_commit(c, &de) != 0 || db_begin_write(c, &de) != 0)
        gen_die("cannot commit: %s", de.message);
}

static void gen_batch_flush(gen_batch *b)
{
    size_t n = json_array_size(b->rows);
    if (n == 0)
        return;
    char *text = json_dumps(b->rows, JSON_COMPACT);
    if (text == NULL)
        gen_die("cannot encode the rows for %s", b->table);
    db_error de;
    db_stmt *s = db_prepare(b->c, &b->stmt, &de);
    if (s == NULL)
        gen_die("cannot prepare the insert into %s: %s", b->table, de.message);
    db_bind_text(s, 1, text);
    int rc = db_exec(s, &de);
    db_reset(s);
    free(text);
    if (rc != 0)
        gen_die("cannot insert into %s: %s", b->table, de.message);
    b->total += (int64_t)n;
    json_array_clear(b->rows);
    b->bytes = 0;
    gen_tx_tick(b->c);
}

/* Writes what is left and releases the batch. */
static void gen_batch_finish(gen_batch *b)
{
    gen_batch_flush(b);
    json_decref(b->rows);
    free(b->list);
    free(b->cols);
    free(b->sql_sqlite);
    free(b->sql_pg);
}

/* Sets the next column of the current row; steals v. */
static void gen_val(gen_batch *b, json_t *v)
{
    if (b->col >= b->ncols)
        gen_die("internal: too many values for a row of %s", b->table);
    if (b->row == NULL)
        b->row = json_object();
    json_object_set_new(b->row, b->cols[b->col++], v);
}

static void gen_text_val(gen_batch *b, const char *s)
{
    if (s != NULL)
        b->bytes += strlen(s);
    gen_val(b, s ? json_string(s) : json_null());
}

static void gen_int_val(gen_batch *b, int64_t i)
{
    gen_val(b, json_integer(i));
}

static void gen_real_val(gen_batch *b, double d)
{
    gen_val(b, json_real(d));
}

static void gen_bool_val(gen_batch *b, bool v)
{
    gen_val(b, json_boolean(v));
}

/* Times travel as the RFC 3339 text both drivers use. */
static void gen_time_val(gen_batch *b, int64_t usec)
{
    char t[TIME_STR_LEN + 1];
    time_format(usec, t);
    gen_val(b, json_string(t));
}

/* A JSON column (jsonb / TEXT): the value itself, not a string holding it. */
static void gen_json_val(gen_batch *b, json_t *v, size_t approx_bytes)
{
    b->bytes += approx_bytes;
    gen_val(b, v);
}

static void gen_row_end(gen_batch *b)
{
    if (b->col != b->ncols)
        gen_die("internal: a row of %s has %d values, not %d", b->table, b->col, b->ncols);
    json_array_append_new(b->rows, b->row);
    b->row = NULL;
    b->col = 0;
    if (json_array_size(b->rows) >= GEN_BATCH_ROWS || b->bytes >= GEN_BATCH_BYTES)
        gen_batch_flush(b);
}

/* ---- the data ------------------------------------------------------------------ */

typedef struct gen_user {
    char id[UUID_STR_LEN + 1];
} gen_user;

typedef struct gen_channel {
    char id[UUID_STR_LEN + 1];
    int user;    /* index into users */
    int persona; /* index into personas: the current one */
} gen_channel;

typedef struct gen_persona {
    char id[UUID_STR_LEN + 1];
    int owner; /* index into users, -1 for SYSTEM */
} gen_persona;

typedef struct gen_project {
    char id[UUID_STR_LEN + 1];
    int user;
    int persona;
} gen_project;

typedef struct gen_ctx {
    db *d;
    db_conn *c;
    int64_t now;
    double scale;
    int nusers, nchannels, nprojects, npersonas, bench_user;
    gen_user *users;
    gen_channel *channels;
    gen_persona *personas;
    gen_project *projects;
    int bench_projects[GEN_BENCH_PROJECTS]; /* indexes into projects */
    char *bench_snapshot;                   /* a history snapshot of one of the caller's personas */
    char password_hash[PASSWORD_HASH_LEN];
} gen_ctx;

static int gen_scaled(const gen_ctx *g, int n, int min)
{
    int v = (int)(n * g->scale);
    return v < min ? min : v;
}

/* A creation time in the past year, weighted towards recent months. */
static int64_t gen_past(const gen_ctx *g)
{
    double u = gen_unit();
    return g->now - (int64_t)(u * u * 365.0 * GEN_DAY_USEC) - gen_range(60, 3600) * 1000000LL;
}

/* The creation time of row i of n in a table written oldest first, with the
 * same weighting: keys then arrive in order, as they do in production, and
 * the load does not degrade into random B-tree inserts. */
static int64_t gen_past_nth(const gen_ctx *g, int i, int n)
{
    double u = 1.0 - ((double)i + gen_unit()) / (double)n;
    return g->now - (int64_t)(u * u * 365.0 * GEN_DAY_USEC) - 3600 * 1000000LL;
}

static void gen_users(gen_ctx *g)
{
    static const char *const plan_ids[] = {
        "01936f4e-0000-7000-8000-000000000001", /* free */
        "01936f4e-0000-7000-8000-000000000002", /* creator */
        "01936f4e-0000-7000-8000-000000000003", /* pro */
    };
    g->nusers = gen_scaled(g, GEN_OTHER_USERS, 10) + 1;
    g->bench_user = 0;
    g->users = xcalloc((size_t)g->nusers, sizeof(gen_user));
    gen_batch b;
    gen_batch_init(&b, g->c, "users",
                   "id, email, name, role, plan_id, password_hash, created_at, updated_at");
    for (int i = 0; i < g->nusers; i++) {
        int64_t t = i == 0 ? g->now - 300 * GEN_DAY_USEC : gen_past(g);
        gen_uuid_at(t, g->users[i].id);
        char email[64], name[64];
        if (i == 0) {
            snprintf(email, sizeof(email), "bench@bench.example");
            snprintf(name, sizeof(name), "Benchmark Caller");
        } else {
            snprintf(email, sizeof(email), "creator%04d@bench.example", i);
            snprintf(name, sizeof(name), "Creator %04d", i);
        }
        int r = (int)gen_range(0, 9);
        const char *plan = i == 0 ? plan_ids[2] : plan_ids[r < 5 ? 0 : r < 8 ? 1 : 2];
        gen_text_val(&b, g->users[i].id);
        gen_text_val(&b, email);
        gen_text_val(&b, name);
        gen_text_val(&b, "user");
        gen_text_val(&b, plan);
        gen_text_val(&b, g->password_hash);
        gen_time_val(&b, t);
        gen_time_val(&b, t);
        gen_row_end(&b);
    }
    gen_batch_finish(&b);
}

/* The persona's row, as its history snapshot records it. */
typedef struct gen_persona_row {
    const char *id, *type, *owner_id, *visibility, *required_plan, *language, *voice;
    char name[101], description[400], instruction[5200];
    double temperature, top_p;
    int top_k, version;
    bool official;
} gen_persona_row;

static json_t *gen_snapshot(const gen_persona_row *p)
{
    return json_pack(
        "{s:s, s:s, s:o, s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:i, s:s, s:s, s:b, s:i}", "id", p->id,
        "type", p->type, "owner_id", p->owner_id ? json_string(p->owner_id) : json_null(),
        "visibility", p->visibility, "required_plan", p->required_plan, "name", p->name,
        "description", p->description, "system_instruction", p->instruction, "temperature",
        p->temperature, "top_p", p->top_p, "top_k", p->top_k, "language", p->language, "voice",
        p->voice, "is_official", p->official, "version", p->version);
}

static void gen_personas(gen_ctx *g)
{
    static const char *const plans[] = {"free", "creator", "pro"};
    int system_extra = GEN_SYSTEM_EXTRA, bench = GEN_BENCH_PERSONAS, other = GEN_OTHER_PERSONAS;
    int n = system_extra + bench + other;
    g->npersonas = n;
    g->personas = xcalloc((size_t)n, sizeof(gen_persona));
    gen_batch pb, hb;
    gen_batch_init(&pb, g->c, "personas",
                   "id, type, owner_id, visibility, required_plan, name, description, "
                   "system_instruction, temperature, top_p, top_k, language, voice, is_official, "
                   "version, created_at, updated_at");
    gen_batch_init(&hb, g->c, "persona_history",
                   "id, persona_id, version, snapshot, changed_by, change_reason, created_at");
    /* 16 starter rows exist; the rest is spread evenly, the remainder on the first personas. */
    int history = GEN_HISTORY_TOTAL - GEN_STARTER_PERSONAS;
    gen_persona_row *row = xmalloc(sizeof(*row));
    for (int i = 0; i < n; i++) {
        bool is_system = i < system_extra;
        bool is_bench = !is_system && i < system_extra + bench;
        int owner = is_system ? -1 : is_bench ? g->bench_user : (int)gen_range(1, g->nusers - 1);
        int versions = history / n + (i < history % n ? 1 : 0);
        int64_t created = is_bench ? g->now - gen_range(30, 200) * GEN_DAY_USEC : gen_past(g);
        gen_uuid_at(created, g->personas[i].id);
        g->personas[i].owner = owner;

        memset(row, 0, sizeof(*row));
        row->id = g->personas[i].id;
        row->type = is_system ? "SYSTEM" : "CUSTOM";
        row->owner_id = owner >= 0 ? g->users[owner].id : NULL;
        row->visibility = is_system || (!is_bench && i % 2 == 0) ? "PUBLIC" : "PRIVATE";
        row->required_plan = is_system ? plans[i % 3] : "free";
        snprintf(row->name, sizeof(row->name), "%s persona %02d",
                 is_system  ? "Studio"
                 : is_bench ? "Bench"
                            : "Community",
                 i);
        gen_text(row->description, 300);
        gen_text(row->instruction, 5000);
        row->top_k = (int)gen_range(20, 64);
        row->language = i % 4 == 3 ? "pt-BR" : "en";
        row->voice = i % 4 == 3 ? "pt-br" : "en-us";
        row->official = is_system;
        int64_t t = created;
        for (int v = 1; v <= versions; v++) {
            row->version = v;
            row->temperature = 0.5 + 0.05 * (double)((i + v) % 20);
            row->top_p = 0.9;
            char hid[UUID_STR_LEN + 1];
            gen_uuid_at(t, hid);
            gen_text_val(&hb, hid);
            gen_text_val(&hb, row->id);
            gen_int_val(&hb, v);
            json_t *snap = gen_snapshot(row);
            if (i == GEN_SYSTEM_EXTRA && v == versions)
                g->bench_snapshot = json_dumps(snap, JSON_COMPACT);
            gen_json_val(&hb, snap, 6000);
            gen_text_val(&hb, owner >= 0 ? g->users[owner].id : NULL);
            gen_text_val(&hb, v == 1 ? "created" : "tuned the sampling settings");
            gen_time_val(&hb, t);
            gen_row_end(&hb);
            if (v < versions)
                t += gen_range(1, 5) * GEN_DAY_USEC;
        }
        gen_text_val(&pb, row->id);
        gen_text_val(&pb, row->type);
        gen_text_val(&pb, row->owner_id);
        gen_text_val(&pb, row->visibility);
        gen_text_val(&pb, row->required_plan);
        gen_text_val(&pb, row->name);
        gen_text_val(&pb, row->description);
        gen_text_val(&pb, row->instruction);
        gen_real_val(&pb, row->temperature);
        gen_real_val(&pb, row->top_p);
        gen_int_val(&pb, row->top_k);
        gen_text_val(&pb, row->language);
        gen_text_val(&pb, row->voice);
        gen_bool_val(&pb, row->official);
        gen_int_val(&pb, versions);
        gen_time_val(&pb, created);
        gen_time_val(&pb, t);
        gen_row_end(&pb);
    }
    free(row);
    gen_batch_finish(&pb);
    gen_batch_finish(&hb);
}

/* Persona of a new channel: the owner's own one when it has some, else a SYSTEM one. */
static int gen_pick_persona(const gen_ctx *g, int user)
{
    if (user == g->bench_user)
        return GEN_SYSTEM_EXTRA + (int)gen_range(0, GEN_BENCH_PERSONAS - 1);
    return (int)gen_range(0, GEN_SYSTEM_EXTRA - 1);
}

static void gen_channels(gen_ctx *g)
{
    g->nchannels = gen_scaled(g, GEN_CHANNELS, GEN_BENCH_CHANNELS + 10);
    g->channels = xcalloc((size_t)g->nchannels, sizeof(gen_channel));
    gen_batch b;
    gen_batch_init(&b, g->c, "channels",
                   "id, user_id, youtube_channel_id, persona_id, name, thumbnail, custom_url, "
                   "uploads_playlist_id, subscriber_count, view_count, video_count, "
                   "stats_updated_at, auto_optimize, created_at, updated_at");
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (int i = 0; i < g->nchannels; i++) {
        gen_channel *ch = &g->channels[i];
        ch->user = i < GEN_BENCH_CHANNELS ? g->bench_user : 1 + (i % (g->nusers - 1));
        ch->persona = gen_pick_persona(g, ch->user);
        int64_t t = gen_past(g);
        gen_uuid_at(t, ch->id);
        char yt[25] = "UC", name[128], thumb[160], url[64], uploads[25] = "UU";
        for (int k = 2; k < 24; k++)
            yt[k] = uploads[k] = b64[gen_rand() % 64];
        yt[24] = uploads[24] = '\0';
        char words[96];
        gen_text(words, 40);
        snprintf(name, sizeof(name), "%.60s", words);
        snprintf(thumb, sizeof(thumb),
                 "https://yt3.ggpht.example/ytc/%s%s=s800-c-k-c0x00ffffff-no-rj", yt, yt + 2);
        snprintf(url, sizeof(url), "@channel%05d", i);
        int64_t subs = (int64_t)(gen_unit() * gen_unit() * 2000000);
        gen_text_val(&b, ch->id);
        gen_text_val(&b, g->users[ch->user].id);
        gen_text_val(&b, yt);
        gen_text_val(&b, g->personas[ch->persona].id);
        gen_text_val(&b, name);
        gen_text_val(&b, thumb);
        gen_text_val(&b, url);
        gen_text_val(&b, uploads);
        gen_int_val(&b, subs);
        gen_int_val(&b, subs * gen_range(20, 400));
        gen_int_val(&b, gen_range(5, 900));
        gen_time_val(&b, g->now - gen_range(1, 24) * 3600 * 1000000LL);
        gen_bool_val(&b, i % 5 == 0);
        gen_time_val(&b, t);
        gen_time_val(&b, t);
        gen_row_end(&b);
    }
    gen_batch_finish(&b);
}

static void gen_projects(gen_ctx *g)
{
    static const char *const statuses[] = {"ready", "ready",    "ready", "ready", "ready",
                                           "ready", "scripted", "draft", "failed"};
    static const char *const media[] = {"COMPLETED", "COMPLETED", "COMPLETED", "PENDING", "FAILED"};
    g->nprojects = gen_scaled(g, GEN_PROJECTS, GEN_BENCH_PROJECTS + 10);
    g->projects = xcalloc((size_t)g->nprojects, sizeof(gen_project));
    int stride = g->nprojects / GEN_BENCH_PROJECTS;
    gen_batch pb, sb;
    gen_batch_init(&pb, g->c, "projects",
                   "id, user_id, channel_id, persona_id, persona_version, topic, status, title, "
                   "description, tags, created_at, updated_at");
    gen_batch_init(&sb, g->c, "scenes",
                   "id, project_id, user_id, position, visual_description, narration, "
                   "image_status, audio_status, image_path, audio_path, duration_ms, created_at, "
                   "updated_at");
    char topic[200], title[200], description[1600], narration[480], visual[260];
    char path[96];
    for (int first = 0; first < g->nprojects; first += GEN_CHUNK) {
        int last = first + GEN_CHUNK < g->nprojects ? first + GEN_CHUNK : g->nprojects;
        int64_t created[GEN_CHUNK];
        for (int i = first; i < last; i++) {
            gen_project *pr = &g->projects[i];
            /* Every stride-th project is the bench user's, so its projects span the
             * year like everyone else's; the rest follow random channels. */
            bool bench = i % stride == 0 && i / stride < GEN_BENCH_PROJECTS;
            int ch = bench ? (i / stride) % GEN_BENCH_CHANNELS
                           : (int)gen_range(GEN_BENCH_CHANNELS, g->nchannels - 1);
            if (bench)
                g->bench_projects[i / stride] = i;
            pr->user = g->channels[ch].user;
            pr->persona = g->channels[ch].persona;
            int64_t t = gen_past_nth(g, i, g->nprojects);
            created[i - first] = t;
            gen_uuid_at(t, pr->id);
            gen_text(topic, 110);
            gen_text(title, 70);
            gen_text(description, 1400);
            json_t *tag_list = json_array();
            for (int k = 0; k < 14; k++)
                json_array_append_new(tag_list, json_string(gen_words[gen_rand() % GEN_NWORDS]));
            gen_text_val(&pb, pr->id);
            gen_text_val(&pb, g->users[pr->user].id);
            gen_text_val(&pb, g->channels[ch].id);
            gen_text_val(&pb, g->personas[pr->persona].id);
            gen_int_val(&pb, 1);
            gen_text_val(&pb, topic);
            gen_text_val(&pb, statuses[gen_rand() % 9]);
            gen_text_val(&pb, title);
            gen_text_val(&pb, description);
            gen_json_val(&pb, tag_list, 150);
            gen_time_val(&pb, t);
            gen_time_val(&pb, t + gen_range(30, 600) * 1000000LL);
            gen_row_end(&pb);
        }
        gen_batch_flush(&pb); /* the scenes below reference these projects */
        for (int i = first; i < last; i++) {
            const gen_project *pr = &g->projects[i];
            int64_t t = created[i - first] + 20 * 1000000LL;
            for (int pos = 0; pos < GEN_SCENES_PER_PROJECT; pos++) {
                char sid[UUID_STR_LEN + 1];
                gen_uuid_at(t + pos * 1000, sid);
                gen_text(narration, 400);
                gen_text(visual, 200);
                const char *img = media[gen_rand() % 5], *aud = media[gen_rand() % 5];
                gen_text_val(&sb, sid);
                gen_text_val(&sb, pr->id);
                gen_text_val(&sb, g->users[pr->user].id);
                gen_int_val(&sb, pos);
                gen_text_val(&sb, visual);
                gen_text_val(&sb, narration);
                gen_text_val(&sb, img);
                gen_text_val(&sb, aud);
                snprintf(path, sizeof(path), "media/%s/scene-%d.png", pr->id, pos);
                gen_text_val(&sb, strcmp(img, "COMPLETED") == 0 ? path : NULL);
                snprintf(path, sizeof(path), "media/%s/scene-%d.wav", pr->id, pos);
                gen_text_val(&sb, strcmp(aud, "COMPLETED") == 0 ? path : NULL);
                if (strcmp(aud, "COMPLETED") == 0)
                    gen_int_val(&sb, gen_range(4000, 20000));
                else
                    gen_text_val(&sb, NULL);
                gen_time_val(&sb, t);
                gen_time_val(&sb, t + gen_range(60, 900) * 1000000LL);
                gen_row_end(&sb);
            }
        }
        gen_batch_flush(&sb);
    }
    gen_batch_finish(&pb);
    gen_batch_finish(&sb);
}

static void gen_analytics(gen_ctx *g)
{
    gen_batch b;
    gen_batch_init(&b, g->c, "channel_analytics",
                   "id, channel_id, user_id, date, period, views, likes, comments, "
                   "watch_time_minutes, subscribers_gained, subscribers_lost, avg_retention, "
                   "avg_ctr, impressions, created_at, updated_at");
    /* Day by day, as the daily sync writes them, so keys arrive in time order. */
    int64_t *base = xcalloc((size_t)g->nchannels, sizeof(int64_t));
    for (int i = 0; i < g->nchannels; i++)
        base[i] = gen_range(50, 50000);
    for (int day = GEN_ANALYTICS_DAYS; day >= 1; day--) {
        for (int i = 0; i < g->nchannels; i++) {
            const gen_channel *ch = &g->channels[i];
            int64_t t = g->now - day * GEN_DAY_USEC;
            int64_t written = t + GEN_DAY_USEC / 2 + i * 1000LL;
            char id[UUID_STR_LEN + 1], date[16], stamp[TIME_STR_LEN + 1];
            gen_uuid_at(written, id);
            time_format(t, stamp);
            snprintf(date, sizeof(date), "%.10s", stamp);
            int64_t views = base[i] / 2 + gen_range(0, base[i]);
            int64_t impressions = views * gen_range(8, 30);
            gen_text_val(&b, id);
            gen_text_val(&b, ch->id);
            gen_text_val(&b, g->users[ch->user].id);
            gen_text_val(&b, date);
            gen_text_val(&b, "DAY");
            gen_int_val(&b, views);
            gen_int_val(&b, views / gen_range(20, 60));
            gen_int_val(&b, views / gen_range(100, 400));
            gen_real_val(&b, (double)views * (1.5 + 3.0 * gen_unit()));
            gen_int_val(&b, views / gen_range(100, 1000));
            gen_int_val(&b, views / gen_range(1000, 5000));
            gen_real_val(&b, 20.0 + 50.0 * gen_unit());
            gen_real_val(&b, 100.0 * (double)views / (double)impressions);
            gen_int_val(&b, impressions);
            gen_time_val(&b, written);
            gen_time_val(&b, written);
            gen_row_end(&b);
        }
    }
    free(base);
    gen_batch_finish(&b);
}

/* Another persona the channel's owner could have picked before its current one. */
static int gen_other_persona(const gen_ctx *g, int user, int current)
{
    for (;;) {
        int p = gen_pick_persona(g, user);
        if (p != current)
            return p;
    }
}

/*
 * The channels' assignment log, as manual assignments write it: the first
 * one long before the analytics range (one channel in GEN_LATE_ONE_IN only
 * inside it, so its first days belong to no persona), and for one channel in
 * GEN_SWITCH_ONE_IN a switch from another persona to the current one at a
 * random instant inside the range (the day of the switch belongs to the
 * persona active at its end). A separate random stream, so the rows of the
 * other tables stay what they were before this table was filled.
 */
static void gen_assignments(gen_ctx *g)
{
    uint64_t saved = gen_rng_state;
    gen_rng_state ^= 0x5bd1e9955bd1e995ULL;
    gen_batch b;
    gen_batch_init(&b, g->c, "channel_persona_assignments",
                   "id, channel_id, user_id, persona_id, persona_version, previous_persona_id, "
                   "assigned_by, source, reason, created_at");
    int64_t range_start = g->now - GEN_ANALYTICS_DAYS * GEN_DAY_USEC;
    for (int i = 0; i < g->nchannels; i++) {
        const gen_channel *ch = &g->channels[i];
        bool switches = gen_rand() % GEN_SWITCH_ONE_IN == 0;
        bool late = gen_rand() % GEN_LATE_ONE_IN == 0;
        int first = switches ? gen_other_persona(g, ch->user, ch->persona) : ch->persona;
        int64_t t_first = late ? range_start + gen_range(1, GEN_ANALYTICS_DAYS / 2) * GEN_DAY_USEC -
                                     gen_range(0, 86399) * 1000000LL
                               : range_start - gen_range(1, 300) * GEN_DAY_USEC;
        int64_t t_switch = (late ? t_first : range_start) +
                           gen_range(1, g->now - 2 * GEN_DAY_USEC - (late ? t_first : range_start));
        const char *user_id = g->users[ch->user].id;
        for (int k = 0; k < (switches ? 2 : 1); k++) {
            int persona = k == 0 ? first : ch->persona;
            int64_t t = k == 0 ? t_first : t_switch;
            char id[UUID_STR_LEN + 1];
            gen_uuid_at(t, id);
            gen_text_val(&b, id);
            gen_text_val(&b, ch->id);
            gen_text_val(&b, user_id);
            gen_text_val(&b, g->personas[persona].id);
            gen_int_val(&b, 1);
            gen_text_val(&b, k == 0 ? NULL : g->personas[first].id);
            gen_text_val(&b, user_id);
            gen_text_val(&b, "manual");
            gen_text_val(&b, k == 0 ? NULL : "trying another voice");
            gen_time_val(&b, t);
            gen_row_end(&b);
        }
    }
    gen_batch_finish(&b);
    gen_rng_state = saved;
}

static void gen_usage_logs(gen_ctx *g)
{
    static const char *const errors[] = {"provider_timeout", "invalid_json", "quota_exceeded"};
    gen_batch b;
    gen_batch_init(&b, g->c, "persona_usage_logs",
                   "id, persona_id, user_id, project_id, action, success, duration_ms, "
                   "tokens_in, tokens_out, provider, model, error_code, created_at");
    int n = gen_scaled(g, GEN_USAGE_LOGS, 100);
    for (int i = 0; i < n; i++) {
        const gen_project *pr = &g->projects[gen_rand() % (uint64_t)g->nprojects];
        bool ok = gen_rand() % 100 >= 6;
        bool gemini = gen_rand() % 3 != 0;
        int64_t t = gen_past_nth(g, i, n);
        char id[UUID_STR_LEN + 1];
        gen_uuid_at(t, id);
        gen_text_val(&b, id);
        gen_text_val(&b, g->personas[pr->persona].id);
        gen_text_val(&b, g->users[pr->user].id);
        gen_text_val(&b, gen_rand() % 10 == 0 ? NULL : pr->id);
        gen_text_val(&b, gen_rand() % 10 < 7 ? "generate_script" : "regenerate_scene");
        gen_bool_val(&b, ok);
        gen_int_val(&b, gen_range(800, 20000));
        gen_int_val(&b, gen_range(1500, 6000));
        gen_int_val(&b, ok ? gen_range(800, 4000) : 0);
        gen_text_val(&b, gemini ? "gemini" : "offline");
        gen_text_val(&b, gemini ? "gemini-2.0-flash" : "offline-draft-1");
        gen_text_val(&b, ok ? NULL : errors[gen_rand() % 3]);
        gen_time_val(&b, t);
        gen_row_end(&b);
    }
    gen_batch_finish(&b);
}

/* ---- the caller's session and the files the load scripts read ------------------ */

static void gen_session(gen_ctx *g, char token[64], char hash[TOKEN_HASH_LEN + 1])
{
    unsigned char raw[32], digest[crypto_hash_sha256_BYTES];
    randombytes_buf(raw, sizeof(raw));
    char b64[64], csrf[64];
    sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf(token, 64, "pss_%.43s", b64);
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(csrf, sizeof(csrf), raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    crypto_hash_sha256(digest, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(hash, TOKEN_HASH_LEN + 1, digest, sizeof(digest));
    session_row row;
    error err;
    if (session_store_insert(g->c, g->users[g->bench_user].id, hash, csrf, "127.0.0.1", "bench_gen",
                             g->now, g->now + 29 * GEN_DAY_USEC, &row, &err) != 0)
        gen_die("cannot create the benchmark session: %s", err.message);
}

static FILE *gen_open_out(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        gen_die("cannot write %s: %s", path, strerror(errno));
    return f;
}

static void gen_write_out(const gen_ctx *g, const char *dir, const char *token, const char *hash)
{
    FILE *f = gen_open_out(dir, "bench.env");
    fprintf(f, "BENCH_TOKEN=%s\nBENCH_TOKEN_HASH=%s\nBENCH_USER_ID=%s\n", token, hash,
            g->users[g->bench_user].id);
    fclose(f);
    f = gen_open_out(dir, "persona_ids.txt");
    for (int i = GEN_SYSTEM_EXTRA; i < GEN_SYSTEM_EXTRA + GEN_BENCH_PERSONAS; i++)
        fprintf(f, "%s\n", g->personas[i].id);
    fclose(f);
    f = gen_open_out(dir, "snapshot.json");
    fprintf(f, "%s\n", g->bench_snapshot);
    fclose(f);
    f = gen_open_out(dir, "project_ids.txt");
    for (int i = 0; i < GEN_BENCH_PROJECTS; i++)
        fprintf(f, "%s\n", g->projects[g->bench_projects[i]].id);
    fclose(f);
}

/* ---- main --------------------------------------------------------------------------- */

static void gen_usage(void)
{
    fputs("usage: bench_gen --url URL --out DIR [--scale F] [--seed N]\n"
          "Fills an empty, or not yet migrated, Persona Studio database at the seed's\n"
          "first-year scale (times F) and writes the benchmark caller's session token and\n"
          "ids to DIR/bench.env, DIR/persona_ids.txt and DIR/project_ids.txt, and a persona\n"
          "history snapshot to DIR/snapshot.json.\n",
          stderr);
    exit(2);
}

static void gen_step(const char *what, int64_t *t0)
{
    int64_t t = time_mono_usec();
    fprintf(stderr, "bench_gen: %-28s %6.1f s\n", what, (double)(t - *t0) / 1e6);
    *t0 = t;
}

static int64_t gen_count(db_conn *c, const char *table)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
    db_sql q = DB_SQL(sql);
    db_error de;
    db_stmt *s = db_prepare(c, &q, &de);
    if (s == NULL || db_step(s, &de) != DB_ROW)
        gen_die("cannot count %s: %s", table, de.message);
    int64_t n = db_col_int64(s, 0);
    db_reset(s);
    return n;
}

int main(int argc, char **argv)
{
    const char *url = NULL, *out = NULL;
    gen_ctx g = {.scale = 1.0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--url") == 0 && i + 1 < argc)
            url = argv[++i];
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(argv[i], "--scale") == 0 && i + 1 < argc)
            g.scale = strtod(argv[++i], NULL);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            gen_rng_state ^= strtoull(argv[++i], NULL, 10) * 0x9e3779b97f4a7c15ULL;
        else
            gen_usage();
    }
    if (url == NULL || out == NULL || !(g.scale > 0 && g.scale <= 10))
        gen_usage();
    if (sodium_init() < 0)
        gen_die("libsodium failed to initialise");
    mkdir(out, 0755);

    int64_t t0 = time_mono_usec(), start = t0;
    db_error de;
    g.d = db_open(url, 1, &de);
    if (g.d == NULL)
        gen_die("cannot open %s: %s", url, de.message);
    int applied;
    if (migrate_apply(g.d, &applied, &de) != 0)
        gen_die("cannot migrate: %s", de.message);
    g.c = db_acquire(g.d);
    /* The load touches indexes far larger than SQLite's default 2 MB cache. */
    if (db_conn_engine(g.c) == DB_ENGINE_SQLITE &&
        db_exec_script(g.c, "PRAGMA cache_size = -262144", &de) != 0)
        gen_die("cannot size the cache: %s", de.message);
    if (gen_count(g.c, "users") != 0)
        gen_die("the database already has users; give it an empty database");
    error err;
    if (password_hash("bench-password-not-secret", g.password_hash, &err) != 0)
        gen_die("cannot hash the password: %s", err.message);
    g.now = time_now_usec();

    if (db_begin_write(g.c, &de) != 0)
        gen_die("cannot begin: %s", de.message);
    gen_users(&g);
    gen_personas(&g);
    gen_step("users, personas, history", &t0);
    gen_channels(&g);
    gen_step("channels", &t0);
    gen_projects(&g);
    gen_step("projects and scenes", &t0);
    gen_analytics(&g);
    gen_step("channel_analytics", &t0);
    gen_assignments(&g);
    gen_step("persona assignments", &t0);
    gen_usage_logs(&g);
    gen_step("persona_usage_logs", &t0);
    char token[64], hash[TOKEN_HASH_LEN + 1];
    gen_session(&g, token, hash);
    if (db_commit(g.c, &de) != 0)
        gen_die("cannot commit: %s", de.message);
    /* The load marked every date it wrote; the roll-up job would have
     * recomputed them within minutes (decision 81). */
    int64_t dates;
    if (performance_service_rollup(g.c, &dates, &err) != 0)
        gen_die("cannot roll up: %s", err.message);
    char what[64];
    snprintf(what, sizeof(what), "persona roll-ups (%lld dates)", (long long)dates);
    gen_step(what, &t0);

    /* PostgreSQL's autovacuum would analyze these tables soon after a bulk
     * load; doing it now keeps it from starting in the middle of a run. */
    const char *finish = db_conn_engine(g.c) == DB_ENGINE_POSTGRES
                             ? "VACUUM ANALYZE"
                             : "PRAGMA wal_checkpoint(TRUNCATE)";
    if (db_exec_script(g.c, finish, &de) != 0)
        gen_die("cannot run %s: %s", finish, de.message);
    gen_step(finish, &t0);

    static const char *const tables[] = {"users",
                                         "personas",
                                         "persona_history",
                                         "channels",
                                         "projects",
                                         "scenes",
                                         "channel_analytics",
                                         "persona_usage_logs",
                                         "channel_persona_assignments"};
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
        fprintf(stderr, "bench_gen: %-20s %8lld rows\n", tables[i],
                (long long)gen_count(g.c, tables[i]));
    gen_write_out(&g, out, token, hash);
    db_release(g.c);
    db_close(g.d);
    free(g.users);
    free(g.channels);
    free(g.personas);
    free(g.projects);
    free(g.bench_snapshot);
    fprintf(stderr, "bench_gen: done in %.1f s\n", (double)(time_mono_usec() - start) / 1e6);
    return 0;
}
