/*
 * The dashboard's browser test, its C half: starts what a real deployment
 * runs, on loopback, and hands it to tests/web/journey.mjs (headless
 * Chromium driven by playwright-core) to use as a person would.
 *
 *   web_journey SCRIPT NODE_MODULES ARTIFACTS
 *
 * It starts the fake Google of tests/fake_google.c (consent, token,
 * userinfo, YouTube channels.list), migrates a fresh SQLite database, starts
 * `pstudio serve` with one in-process job worker and the offline script
 * writer, pointed at the fake for every Google address, waits until it is
 * ready, then runs `node SCRIPT` with PSTUDIO_WEB_BASE (the dashboard's
 * address), PSTUDIO_WEB_NODE_MODULES and PSTUDIO_WEB_ARTIFACTS (where
 * screenshots go). Exits with the script's status; the server's log is
 * ARTIFACTS/serve.log. Everything it started is stopped before it exits.
 *
 * The journey also runs this program as its seeder (PSTUDIO_WEB_SEEDER),
 * for what a browser cannot do on a new account, as tests/test_optimizer.c
 * does it:
 *   web_journey seed-history CHANNEL BEST CURRENT
 *     logs BEST on the channel 60 days ago and CURRENT 30 days ago (backdated
 *     assignments by hand), so the Studio CSV the journey then imports
 *     through the API is attributed to both;
 *   web_journey run-optimizer CHANNEL
 *     queues the channel's optimizer.run job now, rather than an hour after
 *     the daily sweep; the server's worker runs it;
 *   web_journey lose-media PROJECT NAME
 *     removes the file NAME from the project's media (the local store under
 *     PSTUDIO_DATA_DIR), as a lost disk would, so the next render fails for
 *     a missing input.
 * They work on PSTUDIO_DATABASE_URL (the launcher's SQLite database).
 * PSTUDIO_WEB_PSTUDIO names the pstudio binary, so the journey can make an
 * administrator the way an operator does (`pstudio admin user create
 * --admin`, the password on standard input).
 * And SIGUSR1 to the launcher (the journey's parent) is the person revoking
 * the app's access at Google: every token the fake issued stops working, so
 * the server's next call gets 401, its refresh invalid_grant, and the account
 * needs_reconnect until it is connected again.
 *
 * Publishing is on (PSTUDIO_YOUTUBE_PUBLISHING=true, so connecting Google
 * asks for youtube.upload and the fake grants it), against the fake upload
 * server of tests/fake_upload.c in 256 KiB chunks. SIGUSR2 toggles that
 * server's refusal of new uploads with uploadLimitExceeded (the channel's
 * limit, which a person cannot lift from the dashboard), and then writes
 * "on" or "off" to ARTIFACTS/upload-limit.
 */
#include "fake_google.h"
#include "fake_upload.h"

#include "base/timeutil.h"
#include "base/uuid.h"
#include "db/db.h"
#include "jobs/queue.h"
#include "services/optimizer_service.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CLIENT_ID     "web-journey.apps.googleusercontent.com"
#define CLIENT_SECRET "web-journey-secret"

/* A port the kernel just gave out and took back: free unless someone takes
 * it in the moment before serve binds it. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("web_journey: free port");
        exit(1);
    }
    close(fd);
    return ntohs(a.sin_port);
}

static void set(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set(const char *name, const char *fmt, ...)
{
    char v[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof(v), fmt, ap);
    va_end(ap);
    setenv(name, v, 1);
}

/* Starts argv with stdout and stderr appended to log (NULL: inherited). */
static pid_t spawn(const char *const argv[], const char *log)
{
    pid_t pid = fork();
    if (pid < 0) {
        perror("web_journey: fork");
        exit(1);
    }
    if (pid == 0) {
        if (log != NULL) {
            int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
                close(fd);
            }
        }
        execvp(argv[0], (char *const *)argv);
        fprintf(stderr, "web_journey: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    return pid;
}

static volatile sig_atomic_t revoke_asked, limit_asked;
static fake_google *revoke_fake;
static fake_upload *limit_fake;

static void on_revoke(int sig)
{
    (void)sig;
    revoke_asked = 1;
}

static void on_limit(int sig)
{
    (void)sig;
    limit_asked = 1;
}

static char limit_file[1100];

/* New uploads are refused with uploadLimitExceeded, or taken again; then
 * ARTIFACTS/upload-limit says which ("on" or "off"), so the journey knows
 * the fake changed before it publishes. */
static void toggle_limit(void)
{
    fake_upload_lock(limit_fake);
    limit_fake->start_mode = limit_fake->start_mode == 2 ? 0 : 2;
    bool on = limit_fake->start_mode == 2;
    fake_upload_unlock(limit_fake);
    fprintf(stderr, "web_journey: new uploads are %s, as asked\n",
            on ? "refused with uploadLimitExceeded" : "taken");
    FILE *f = fopen(limit_file, "w");
    if (f != NULL) {
        fputs(on ? "on\n" : "off\n", f);
        fclose(f);
    }
}

/* Every token the fake issued, access and refresh, stops being valid. */
static void revoke_all(void)
{
    fake_google_lock(revoke_fake);
    for (int i = 0; i < revoke_fake->ntokens; i++)
        revoke_fake->tokens[i].valid = false;
    fake_google_unlock(revoke_fake);
    fprintf(stderr, "web_journey: every Google token revoked, as asked\n");
}

static int wait_status(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        if (revoke_asked && revoke_fake != NULL) {
            revoke_asked = 0;
            revoke_all();
        }
        if (limit_asked && limit_fake != NULL) {
            limit_asked = 0;
            toggle_limit();
        }
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static size_t discard(void *p, size_t s, size_t n, void *u)
{
    return s * n;
}

/* Polls /readyz until it answers 200 or serve exits; false after 20 s. */
static bool wait_ready(int port, pid_t serve)
{
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/readyz", port);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 1000L);
    bool ok = false;
    for (int i = 0; i < 200 && !ok; i++) {
        long code = 0;
        if (curl_easy_perform(h) == CURLE_OK)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        ok = code == 200;
        if (!ok) {
            if (waitpid(serve, NULL, WNOHANG) == serve)
                break;
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    curl_easy_cleanup(h);
    return ok;
}

/* ---- the seeder ------------------------------------------------------------ */

#define USEC_PER_DAY INT64_C(86400000000)

static db_conn *seed_open(db **d)
{
    db_error de;
    const char *url = getenv("PSTUDIO_DATABASE_URL");
    *d = url ? db_open(url, 1, &de) : NULL;
    if (*d == NULL) {
        fprintf(stderr, "web_journey seeder: cannot open %s: %s\n", url ? url : "(unset)",
                url ? de.message : "PSTUDIO_DATABASE_URL");
        exit(1);
    }
    return db_acquire(*d);
}

static void seed_close(db *d, db_conn *c)
{
    db_release(c);
    db_close(d);
}

/* One statement with text parameters and, at $n, the time t (0: none). */
static void seed_exec(db_conn *c, const char *sql, const char *const *args, int nargs, int t_at,
                      int64_t t)
{
    db_sql q = DB_SQL(sql);
    db_error de;
    db_stmt *st = db_prepare(c, &q, &de);
    if (st == NULL) {
        fprintf(stderr, "web_journey seeder: %s\n", de.message);
        exit(1);
    }
    for (int i = 0; i < nargs; i++)
        db_bind_text(st, i + 1, args[i]);
    if (t_at > 0)
        db_bind_time(st, t_at, t);
    int rc = db_exec(st, &de);
    int64_t n = db_changes(st);
    db_reset(st);
    if (rc != 0 || n != 1) {
        fprintf(stderr, "web_journey seeder: %s changed %lld rows: %s\n", sql, (long long)n,
                rc != 0 ? de.message : "expected one");
        exit(1);
    }
}

/* persona on the channel from the start of `day`, by its owner, by hand. */
static void seed_assign(db_conn *c, const char *channel_id, const char *persona_id, int64_t day)
{
    char id[UUID_STR_LEN + 1];
    uuid_v7(id);
    const char *args[] = {id, channel_id, persona_id};
    seed_exec(c,
              "INSERT INTO channel_persona_assignments (id, channel_id, user_id, persona_id, "
              "persona_version, previous_persona_id, assigned_by, source, reason, created_at) "
              "SELECT $1, $2, ch.user_id, $3, 1, ch.persona_id, ch.user_id, 'manual', "
              "'seeded history', $4 FROM channels ch WHERE ch.id = $2",
              args, 3, 4, day * USEC_PER_DAY);
    seed_exec(c, "UPDATE channels SET persona_id = $2 WHERE id = $1",
              (const char *[]){channel_id, persona_id}, 2, 0, 0);
}

static int seed_main(int argc, char **argv)
{
    db *d;
    if (argc == 5 && strcmp(argv[1], "seed-history") == 0) {
        db_conn *c = seed_open(&d);
        int64_t today = time_day_of(time_now_usec());
        seed_assign(c, argv[2], argv[3], today - 60);
        seed_assign(c, argv[2], argv[4], today - 30);
        seed_close(d, c);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "run-optimizer") == 0) {
        db_conn *c = seed_open(&d);
        char user[UUID_STR_LEN + 1] = "", key[128], id[UUID_STR_LEN + 1];
        db_sql q = DB_SQL("SELECT user_id FROM channels WHERE id = $1");
        db_error de;
        db_stmt *st = db_prepare(c, &q, &de);
        if (st == NULL) {
            fprintf(stderr, "web_journey seeder: %s\n", de.message);
            return 1;
        }
        db_bind_text(st, 1, argv[2]);
        if (db_step(st, &de) == DB_ROW)
            db_col_copy(st, 0, user, sizeof(user));
        db_reset(st);
        if (user[0] == '\0') {
            fprintf(stderr, "web_journey seeder: no channel %s\n", argv[2]);
            return 1;
        }
        snprintf(key, sizeof(key), "%s:%s:journey", OPTIMIZER_JOB_RUN, argv[2]);
        json_t *payload = json_pack("{s:s}", "channel_id", argv[2]);
        job_options o = {.user_id = user, .unique_key = key};
        error e;
        int rc = job_enqueue(c, OPTIMIZER_JOB_RUN, payload, &o, id, &e);
        json_decref(payload);
        seed_close(d, c);
        if (rc != 0) {
            fprintf(stderr, "web_journey seeder: cannot queue %s: %s\n", OPTIMIZER_JOB_RUN,
                    e.message);
            return 1;
        }
        printf("%s\n", id);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "lose-media") == 0) {
        const char *name = argv[3], *root = getenv("PSTUDIO_DATA_DIR");
        if (root == NULL || name[0] == '.' || strchr(name, '/') != NULL) {
            fprintf(stderr, "web_journey seeder: no PSTUDIO_DATA_DIR, or %s is no file name\n",
                    name);
            return 1;
        }
        db_conn *c = seed_open(&d);
        char user[UUID_STR_LEN + 1] = "";
        db_sql q = DB_SQL("SELECT user_id FROM projects WHERE id = $1");
        db_error de;
        db_stmt *st = db_prepare(c, &q, &de);
        if (st != NULL) {
            db_bind_text(st, 1, argv[2]);
            if (db_step(st, &de) == DB_ROW)
                db_col_copy(st, 0, user, sizeof(user));
            db_reset(st);
        }
        seed_close(d, c);
        char path[2048];
        snprintf(path, sizeof(path), "%s/media/%s/%s/%s", root, user, argv[2], name);
        if (user[0] == '\0' || unlink(path) != 0) {
            fprintf(stderr, "web_journey seeder: cannot remove %s: %s\n", path,
                    user[0] == '\0' ? "no such project" : strerror(errno));
            return 1;
        }
        return 0;
    }
    fprintf(stderr, "usage: web_journey seed-history CHANNEL BEST CURRENT | run-optimizer "
                    "CHANNEL | lose-media PROJECT NAME\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "seed-history") == 0 ||
                     strcmp(argv[1], "run-optimizer") == 0 || strcmp(argv[1], "lose-media") == 0))
        return seed_main(argc, argv);
    if (argc != 4) {
        fprintf(stderr, "usage: web_journey SCRIPT NODE_MODULES ARTIFACTS\n");
        return 2;
    }
    const char *script = argv[1], *modules = argv[2], *artifacts = argv[3];
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        return 1;
    mkdir(artifacts, 0755);
    char dir[] = "/tmp/pstudio-web-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        perror("web_journey: mkdtemp");
        return 1;
    }

    char self[1024];
    ssize_t sn = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (sn <= 0) {
        perror("web_journey: /proc/self/exe");
        return 1;
    }
    self[sn] = '\0';
    set("PSTUDIO_WEB_SEEDER", "%s", self);

    fake_google *fg = fake_google_start(CLIENT_ID, CLIENT_SECRET);
    fake_upload *fu = fake_upload_start(fg);
    int fp = fg->port, port = free_port();
    unsigned char raw[32];
    char key[64];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(key, sizeof(key), raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);

    set("PSTUDIO_DATA_DIR", "%s", dir);
    set("PSTUDIO_DATABASE_URL", "sqlite://%s/pstudio.db", dir);
    set("PSTUDIO_BIND", "127.0.0.1");
    set("PSTUDIO_PORT", "%d", port);
    set("PSTUDIO_WORKERS", "1");
    set("PSTUDIO_LLM_PROVIDER", "offline");
    set("PSTUDIO_SECRET_KEY", "%s", key);
    set("PSTUDIO_GOOGLE_CLIENT_ID", "%s", CLIENT_ID);
    set("PSTUDIO_GOOGLE_CLIENT_SECRET", "%s", CLIENT_SECRET);
    set("PSTUDIO_GOOGLE_REDIRECT_URI", "http://127.0.0.1:%d/api/v1/google/callback", port);
    set("PSTUDIO_GOOGLE_AUTH_URL", "http://127.0.0.1:%d/o/oauth2/v2/auth", fp);
    set("PSTUDIO_GOOGLE_TOKEN_URL", "http://127.0.0.1:%d/token", fp);
    set("PSTUDIO_GOOGLE_USERINFO_URL", "http://127.0.0.1:%d/v1/userinfo", fp);
    set("PSTUDIO_GOOGLE_REVOKE_URL", "http://127.0.0.1:%d/revoke", fp);
    set("PSTUDIO_YOUTUBE_API_URL", "http://127.0.0.1:%d/youtube/v3", fp);
    set("PSTUDIO_YOUTUBE_ANALYTICS_URL", "http://127.0.0.1:%d", fp);
    set("PSTUDIO_YOUTUBE_PUBLISHING", "true");
    set("PSTUDIO_YOUTUBE_UPLOAD_URL", "http://127.0.0.1:%d/upload", fu->port);
    set("PSTUDIO_YOUTUBE_UPLOAD_CHUNK_KIB", "256");

    char log[1024];
    snprintf(log, sizeof(log), "%s/serve.log", artifacts);
    unlink(log);
    const char *migrate[] = {PSTUDIO_BIN, "migrate", NULL};
    int rc = wait_status(spawn(migrate, log));
    if (rc != 0) {
        fprintf(stderr, "web_journey: pstudio migrate exited %d (see %s)\n", rc, log);
        fake_upload_stop(fu);
        fake_google_stop(fg);
        return 1;
    }
    const char *serve_argv[] = {PSTUDIO_BIN, "serve", NULL};
    pid_t serve = spawn(serve_argv, log);
    if (!wait_ready(port, serve)) {
        fprintf(stderr, "web_journey: pstudio serve did not become ready (see %s)\n", log);
        kill(serve, SIGTERM);
        wait_status(serve);
        fake_upload_stop(fu);
        fake_google_stop(fg);
        return 1;
    }

    set("PSTUDIO_WEB_BASE", "http://127.0.0.1:%d", port);
    set("PSTUDIO_WEB_NODE_MODULES", "%s", modules);
    set("PSTUDIO_WEB_ARTIFACTS", "%s", artifacts);
    set("PSTUDIO_WEB_PSTUDIO", "%s", PSTUDIO_BIN); /* the journey makes an admin with the CLI */
    const char *node[] = {"node", script, NULL};
    revoke_fake = fg;
    limit_fake = fu;
    snprintf(limit_file, sizeof(limit_file), "%s/upload-limit", artifacts);
    unlink(limit_file);
    struct sigaction sa = {.sa_handler = on_revoke}; /* no SA_RESTART: waitpid returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_limit;
    sigaction(SIGUSR2, &sa, NULL);
    rc = wait_status(spawn(node, NULL));
    signal(SIGUSR1, SIG_IGN);
    signal(SIGUSR2, SIG_IGN);
    revoke_fake = NULL;
    limit_fake = NULL;

    kill(serve, SIGTERM);
    int src = wait_status(serve);
    fake_upload_stop(fu);
    fake_google_stop(fg);
    const char *rm[] = {"rm", "-rf", dir, NULL};
    wait_status(spawn(rm, NULL));
    curl_global_cleanup();
    if (rc == 0 && src != 0) {
        fprintf(stderr, "web_journey: pstudio serve exited %d at SIGTERM (see %s)\n", src, log);
        return 1;
    }
    return rc;
}
