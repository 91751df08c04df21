/*
 * Disk faults (issue 17): a full disk, made real for one process by
 * RLIMIT_FSIZE set in the child before exec (no root, no mount: a write
 * past the limit fails with EFBIG, or comes back short, exactly as on a
 * full file system; pstudio ignores SIGXFSZ itself, which this proves,
 * since the test leaves the signal at its default).
 *
 * - PostgreSQL: a worker whose media disk is full. The database is
 *   elsewhere (written by the PostgreSQL server), so the worker records
 *   what happened: the scene's narration and image and the project's
 *   video end FAILED with a reason naming the full disk, no temporary or
 *   partial file is left in the media directory or the render's scratch
 *   directory, the worker keeps running, and asking again once a worker
 *   has room succeeds.
 * - SQLite: a server whose data disk fills while it runs. A write gets a
 *   507 problem ("Storage full"), every earlier row is still served, the
 *   server keeps answering reads and refusing writes the same way; given
 *   room while it runs (prlimit), its next write succeeds; after it stops
 *   the file passes PRAGMA integrity_check with every acknowledged row and
 *   no trace of the refused ones. Restarted with no limit, it writes again.
 *
 * (On SQLite one disk holds the database and the media, so a worker with a
 * full disk cannot record anything: the media case runs on PostgreSQL.)
 */
#include "testlib.h"

#include "base/timeutil.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define WAIT_S 180

typedef struct disk {
    testdb t;
    char dir[512];  /* the machine's data directory */
    char url[1024]; /* its database */
    char media[600];
    char scratch[600]; /* the worker's TMPDIR */
    test_proc serve, worker;
    int nlog;
} disk;

/* Starts `pstudio cmd` on the machine's data directory and database and
 * waits until it is ready; with fsize > 0, no file it writes may grow past
 * fsize bytes. */
static void start(disk *d, test_proc *p, const char *cmd, long fsize)
{
    char log[700], tmpdir[620];
    snprintf(log, sizeof(log), "%s/%s-%d.log", d->dir, cmd, ++d->nlog);
    snprintf(tmpdir, sizeof(tmpdir), "TMPDIR=%s", d->scratch);
    const char *const env[] = {tmpdir, NULL};
    test_proc_opts o = {
        .db_url = d->url, .data_dir = d->dir, .log = log, .env = env, .fsize = fsize};
    test_proc_start(p, cmd, &o);
    test_proc_ready(p);
}

/* SIGTERM and how it ended (0: a clean exit). */
static int stop(test_proc *p)
{
    return test_proc_stop(p, SIGTERM, 30);
}

static int setup(void **state)
{
    disk *d = test_calloc(1, sizeof(*d));
    test_tmpdir(d->dir, sizeof(d->dir));
    snprintf(d->media, sizeof(d->media), "%s/media", d->dir);
    snprintf(d->scratch, sizeof(d->scratch), "%s/scratch", d->dir);
    assert_int_equal(mkdir(d->scratch, 0700), 0);
    if (strcmp(test_engine(), "postgres") == 0) {
        testdb_create(&d->t);
        snprintf(d->url, sizeof(d->url), "%s", d->t.url);
    } else {
        snprintf(d->url, sizeof(d->url), "sqlite://%s/pstudio.db", d->dir);
    }
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    disk *d = *state;
    stop(&d->serve);
    stop(&d->worker);
    if (d->t.db != NULL)
        testdb_destroy(&d->t);
    test_free(d);
    return 0;
}

static test_resp req(const test_proc *p, const char *method, const char *path, const char *tok,
                     const char *body)
{
    test_api a = {.port = p->port};
    return test_req(&a, method, path, tok, body, NULL);
}

static const char *str(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

static void signup(const test_proc *p, const char *email, char *tok)
{
    char body[160];
    snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"correct horse battery\"}",
             email);
    test_resp r = req(p, "POST", "/api/v1/auth/signup", NULL, body);
    test_expect(&r, 201, NULL);
    snprintf(tok, 128, "%s", str(r.json, "token"));
    test_resp_free(&r);
}

/* Every name in dir (space-separated, each followed by a space), "" when
 * it is empty or missing. */
static void names_in(const char *dir, char *out, size_t n)
{
    out[0] = '\0';
    DIR *dd = opendir(dir);
    if (dd == NULL)
        return;
    struct dirent *de;
    while ((de = readdir(dd)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        size_t len = strlen(out);
        snprintf(out + len, n - len, "%s ", de->d_name);
    }
    closedir(dd);
}

/* ---- the media disk, on PostgreSQL ------------------------------------------------------- */

/* Polls the project's scenes until the first one's audio and image are
 * both final (COMPLETED or FAILED); returns that scene's JSON. */
static test_resp wait_scene(disk *d, const char *tok, const char *id)
{
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes", id);
    int64_t until = time_mono_usec() + (int64_t)WAIT_S * 1000000;
    for (;;) {
        test_resp r = req(&d->serve, "GET", path, tok, NULL);
        test_expect(&r, 200, NULL);
        json_t *sc = json_array_get(json_object_get(r.json, "items"), 0);
        const char *a = str(sc, "audio_status"), *i = str(sc, "image_status");
        bool final_a = strcmp(a, "COMPLETED") == 0 || strcmp(a, "FAILED") == 0;
        bool final_i = strcmp(i, "COMPLETED") == 0 || strcmp(i, "FAILED") == 0;
        if (final_a && final_i)
            return r;
        if (time_mono_usec() > until)
            fail_msg("the scene's media never ended: %s\n%s", r.body, test_proc_log(&d->worker));
        test_resp_free(&r);
        test_nap_ms(50);
    }
}

static test_resp wait_render(disk *d, const char *tok, const char *id)
{
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/projects/%s", id);
    int64_t until = time_mono_usec() + (int64_t)WAIT_S * 1000000;
    for (;;) {
        test_resp r = req(&d->serve, "GET", path, tok, NULL);
        test_expect(&r, 200, NULL);
        const char *st = str(r.json, "render_status");
        if (strcmp(st, "rendered") == 0 || strcmp(st, "failed") == 0)
            return r;
        if (time_mono_usec() > until)
            fail_msg("the render never ended: %s\n%s", r.body, test_proc_log(&d->worker));
        test_resp_free(&r);
        test_nap_ms(50);
    }
}

static void post(disk *d, const char *tok, const char *path, const char *body, long want)
{
    test_resp r = req(&d->serve, "POST", path, tok, body);
    test_expect(&r, want, NULL);
    test_resp_free(&r);
}

/* The reason a job gave must say the disk is full, and why, in the C
 * library's words. */
static void names_the_disk(const char *what, const char *reason)
{
    if (strstr(reason, "disk is full") == NULL || strstr(reason, strerror(EFBIG)) == NULL)
        fail_msg("%s's reason does not name the full disk: '%s'", what, reason);
}

/* The project's media directory holds exactly the visible names in want
 * (a space-separated list, each followed by a space), and no temporary. */
static void media_names(disk *d, const char *uid, const char *id, char *out, size_t n)
{
    char dir[900];
    snprintf(dir, sizeof(dir), "%s/%s/%s", d->media, uid, id);
    names_in(dir, out, n);
    if (strstr(out, ".tmp-") != NULL)
        fail_msg("a temporary file is left in the media directory: %s", out);
}

static void user_id(disk *d, const char *email, char *out)
{
    static db_sql q = DB_SQL("SELECT id FROM users WHERE email = $1");
    db_conn *c = db_acquire(d->t.db);
    db_error de;
    db_stmt *s = db_prepare(c, &q, &de);
    assert_non_null(s);
    db_bind_text(s, 1, email);
    assert_int_equal(db_step(s, &de), DB_ROW);
    snprintf(out, 37, "%s", db_col_text(s, 0));
    db_reset(s);
    db_release(c);
}

static void test_a_full_media_disk_fails_each_job_clearly_and_asking_again_succeeds(void **state)
{
    disk *d = *state;
    if (strcmp(test_engine(), "postgres") != 0) {
        print_message("skipped on SQLite: one disk holds the database and the media there\n");
        skip();
    }
    /* 16 KiB: more than the script's and subtitles' text, less than any
     * narration's WAV, scene card or video. */
    const long full = 16 * 1024;
    start(d, &d->serve, "serve", 0);
    start(d, &d->worker, "worker", full);
    char ana[128], uid[37], id[37], path[160], names[4096];
    signup(&d->serve, "ana@example.com", ana);
    test_resp r = req(&d->serve, "POST", "/api/v1/projects", ana,
                      "{\"topic\":\"Tides\",\"language\":\"en\",\"target_scenes\":1}");
    test_expect(&r, 202, NULL);
    snprintf(id, sizeof(id), "%s", str(r.json, "id"));
    test_resp_free(&r);
    user_id(d, "ana@example.com", uid);
    snprintf(path, sizeof(path), "/api/v1/projects/%s", id);
    int64_t until = time_mono_usec() + (int64_t)WAIT_S * 1000000;
    for (;;) {
        r = req(&d->serve, "GET", path, ana, NULL);
        bool done = strcmp(str(r.json, "status"), "scripted") == 0;
        if (!done && time_mono_usec() > until)
            fail_msg("never scripted: %s", r.body);
        test_resp_free(&r);
        if (done)
            break;
        test_nap_ms(50);
    }

    /* Narration and image: FAILED at once, saying why; nothing in the
     * media directory, not even a temporary. */
    snprintf(path, sizeof(path), "/api/v1/projects/%s/media", id);
    post(d, ana, path, NULL, 202);
    r = wait_scene(d, ana, id);
    json_t *sc = json_array_get(json_object_get(r.json, "items"), 0);
    assert_string_equal(str(sc, "audio_status"), "FAILED");
    assert_string_equal(str(sc, "image_status"), "FAILED");
    names_the_disk("the narration", str(sc, "audio_error"));
    names_the_disk("the image", str(sc, "image_error"));
    assert_true(json_is_null(json_object_get(sc, "audio")));
    test_resp_free(&r);
    media_names(d, uid, id, names, sizeof(names));
    assert_string_equal(names, "");
    assert_true(test_proc_alive(&d->worker));
    assert_int_equal(testdb_scalar(&d->t, "SELECT count(*) FROM jobs WHERE kind IN "
                                          "('media.audio', 'media.image') AND attempts > 1"),
                     0); /* failed at once, not retried against the full disk */

    /* Room again (a worker without the limit): asking again succeeds. */
    assert_int_equal(stop(&d->worker), 0);
    start(d, &d->worker, "worker", 0);
    post(d, ana, path, NULL, 202);
    r = wait_scene(d, ana, id);
    sc = json_array_get(json_object_get(r.json, "items"), 0);
    assert_string_equal(str(sc, "audio_status"), "COMPLETED");
    assert_string_equal(str(sc, "image_status"), "COMPLETED");
    test_resp_free(&r);
    media_names(d, uid, id, names, sizeof(names));
    char visible[4096];
    snprintf(visible, sizeof(visible), "%s", names);

    /* The render on a full disk: failed, saying why; the media directory
     * holds what it held, and the scratch directory nothing. */
    assert_int_equal(stop(&d->worker), 0);
    start(d, &d->worker, "worker", full);
    snprintf(path, sizeof(path), "/api/v1/projects/%s/render", id);
    post(d, ana, path, "{\"music\":\"none\"}", 202);
    r = wait_render(d, ana, id);
    assert_string_equal(str(r.json, "render_status"), "failed");
    names_the_disk("the render", str(r.json, "render_error"));
    assert_true(json_is_null(json_object_get(r.json, "video")));
    test_resp_free(&r);
    media_names(d, uid, id, names, sizeof(names));
    assert_string_equal(names, visible);
    names_in(d->scratch, names, sizeof(names));
    assert_string_equal(names, "");
    snprintf(path, sizeof(path), "/api/v1/projects/%s/media/video.mp4", id);
    r = req(&d->serve, "GET", path, ana, NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    assert_true(test_proc_alive(&d->worker));

    assert_int_equal(stop(&d->worker), 0);
    start(d, &d->worker, "worker", 0);
    snprintf(path, sizeof(path), "/api/v1/projects/%s/render", id);
    post(d, ana, path, "{\"music\":\"none\"}", 202);
    r = wait_render(d, ana, id);
    assert_string_equal(str(r.json, "render_status"), "rendered");
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/projects/%s/media/video.mp4", id);
    r = req(&d->serve, "GET", path, ana, NULL);
    test_expect(&r, 200, NULL);
    assert_memory_equal(r.body + 4, "ftyp", 4);
    test_resp_free(&r);
}

/* ---- the data disk, on SQLite ------------------------------------------------------------- */

static char *persona_body(int i)
{
    static char body[4096];
    char text[3001];
    memset(text, 'a' + i % 26, sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    snprintf(body, sizeof(body),
             "{\"name\":\"Persona %d\",\"system_instruction\":\"%s\",\"language\":\"en-US\"}", i,
             text);
    return body;
}

static void test_a_full_sqlite_disk_refuses_writes_with_507_and_keeps_serving_reads(void **state)
{
    disk *d = *state;
    if (strcmp(test_engine(), "sqlite") != 0) {
        print_message("skipped on PostgreSQL: this is the embedded database's own file\n");
        skip();
    }
    char ana[128], ids[400][37];
    int n = 0;
    start(d, &d->serve, "serve", 0);
    signup(&d->serve, "ana@example.com", ana);
    for (; n < 3; n++) {
        test_resp r = req(&d->serve, "POST", "/api/v1/personas", ana, persona_body(n));
        test_expect(&r, 201, NULL);
        snprintf(ids[n], 37, "%s", str(r.json, "id"));
        test_resp_free(&r);
    }
    assert_int_equal(stop(&d->serve), 0); /* a clean stop: the WAL is folded in */

    /* 64 KiB: room for the shared-memory index (32 KiB) and a few
     * transactions in a fresh WAL, then the disk is full. */
    start(d, &d->serve, "serve", 64 * 1024);
    test_resp refused = {0};
    for (; n < 400; n++) {
        test_resp r = req(&d->serve, "POST", "/api/v1/personas", ana, persona_body(n));
        if (r.status != 201) {
            refused = r;
            break;
        }
        snprintf(ids[n], 37, "%s", str(r.json, "id"));
        test_resp_free(&r);
    }
    if (refused.status == 0)
        fail_msg("400 personas were written past a 64 KiB limit");
    test_expect(&refused, 507, "storage-full");
    char h[128];
    assert_true(test_resp_header(&refused, "Content-Type", h, sizeof(h)));
    assert_string_equal(h, "application/problem+json");
    assert_string_equal(str(refused.json, "title"), "Storage full");
    assert_null(strstr(refused.body, d->dir)); /* no path reaches the caller */
    test_resp_free(&refused);
    int refused_at = n;

    /* Reads go on: every acknowledged persona, health and readiness; a
     * second write is refused the same way. */
    for (int i = 0; i < n; i++) {
        char path[128];
        snprintf(path, sizeof(path), "/api/v1/personas/%.36s", ids[i]);
        test_resp r = req(&d->serve, "GET", path, ana, NULL);
        test_expect(&r, 200, NULL);
        test_resp_free(&r);
    }
    test_resp r = req(&d->serve, "GET", "/healthz", NULL, NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    r = req(&d->serve, "GET", "/readyz", NULL, NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    r = req(&d->serve, "POST", "/api/v1/personas", ana, persona_body(refused_at + 1));
    test_expect(&r, 507, "storage-full");
    test_resp_free(&r);
    assert_true(test_proc_alive(&d->serve));

    /* Room again, with no restart: the next write succeeds. */
    struct rlimit room = {RLIM_INFINITY, RLIM_INFINITY};
    assert_int_equal(prlimit(d->serve.pid, RLIMIT_FSIZE, &room, NULL), 0);
    r = req(&d->serve, "POST", "/api/v1/personas", ana, persona_body(refused_at + 2));
    test_expect(&r, 201, NULL);
    snprintf(ids[n++], 37, "%s", str(r.json, "id"));
    test_resp_free(&r);
    assert_int_equal(stop(&d->serve), 0);

    /* The file: intact, every acknowledged row, none of the refused. */
    char path[700];
    snprintf(path, sizeof(path), "%s/pstudio.db", d->dir);
    sqlite3 *sq = NULL;
    assert_int_equal(sqlite3_open_v2(path, &sq, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(sq, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(sq,
                                        "SELECT count(*), sum(name IN ('Persona ' || $1, "
                                        "'Persona ' || ($1 + 1))) FROM personas WHERE type = "
                                        "'CUSTOM'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int(st, 1, refused_at);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), n);
    assert_int_equal(sqlite3_column_int(st, 1), 0);
    sqlite3_finalize(st);
    sqlite3_close(sq);
    testdb dbcheck = {0};
    snprintf(dbcheck.url, sizeof(dbcheck.url), "%s", d->url);
    db_error de;
    dbcheck.db = db_open(dbcheck.url, 1, &de);
    assert_non_null(dbcheck.db);
    char why[512];
    if (testdb_check_quiet(&dbcheck, why, sizeof(why)) != 0)
        fail_msg("the consistency checker: %s", why);
    db_close(dbcheck.db);

    /* Started again with no limit: it writes, and serves every
     * acknowledged persona. */
    start(d, &d->serve, "serve", 0);
    r = req(&d->serve, "POST", "/api/v1/personas", ana, persona_body(refused_at));
    test_expect(&r, 201, NULL);
    test_resp_free(&r);
    for (int i = 0; i < n; i++) {
        char one[128];
        snprintf(one, sizeof(one), "/api/v1/personas/%.36s", ids[i]);
        r = req(&d->serve, "GET", one, ana, NULL);
        test_expect(&r, 200, NULL);
        test_resp_free(&r);
    }
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_a_full_media_disk_fails_each_job_clearly_and_asking_again_succeeds),
        T(test_a_full_sqlite_disk_refuses_writes_with_507_and_keeps_serving_reads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
