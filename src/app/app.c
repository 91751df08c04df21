#include "app/app.h"

#include "base/log.h"
#include "base/timeutil.h"
#include "db/db_backup.h"
#include "db/migrate.h"
#include "providers/media_store.h"
#include "services/token_crypto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void app_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("pstudio: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Creates the data directory when missing and proves it writable by creating
 * and removing a file, so a read-only mount fails at start with a message
 * that names the setting, not later inside SQLite. */
int app_prepare_data_dir(const char *dir)
{
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        app_fail("PSTUDIO_DATA_DIR: cannot create the data directory %s: %s", dir, strerror(errno));
        return -1;
    }
    char probe[4096];
    snprintf(probe, sizeof(probe), "%s/.pstudio-write-test-%ld", dir, (long)getpid());
    FILE *f = fopen(probe, "w");
    if (f == NULL) {
        app_fail("PSTUDIO_DATA_DIR: the data directory %s is not writable: %s", dir,
                 strerror(errno));
        return -1;
    }
    fclose(f);
    unlink(probe);
    return 0;
}

db *app_open_db(const config *c, int pool_size, bool migrate, int *status)
{
    *status = EXIT_USAGE;
    if (app_prepare_data_dir(c->data_dir) != 0)
        return NULL;
    db_error de;
    db *d = db_open(c->database_url, pool_size, &de);
    if (d == NULL) {
        app_fail("PSTUDIO_DATABASE_URL: %s", de.message);
        return NULL;
    }
    int rc;
    if (migrate) {
        int applied = 0;
        rc = migrate_apply(d, &applied, &de);
        if (rc == 0 && applied > 0)
            log_info("database schema brought to version %d (%d step%s)",
                     migrate_latest(db_engine_of(d)), applied, applied == 1 ? "" : "s");
    } else {
        rc = migrate_check_current(d, &de);
    }
    if (rc != 0) {
        app_fail("PSTUDIO_DATABASE_URL: %s", de.message);
        /* A schema this binary cannot use, or a server it cannot reach, is a
         * configuration problem; a migration that fails part-way is a bug. */
        *status = de.fault == DB_FAULT_SCHEMA || de.fault == DB_FAULT_CONNECTION ? EXIT_USAGE : 1;
        db_close(d);
        return NULL;
    }
    *status = 0;
    return d;
}

int app_hold_database(const config *c)
{
    if (db_backup_sqlite_path(c->database_url) == NULL)
        return 0;
    if (app_prepare_data_dir(c->data_dir) != 0)
        return EXIT_USAGE;
    /* Held until the process exits: the descriptor is deliberately kept. */
    static int held = -1;
    db_error de;
    if (held < 0 && db_backup_sqlite_hold(c->database_url, false, &held, &de) != 0) {
        app_fail("PSTUDIO_DATABASE_URL: %s", de.message);
        return EXIT_USAGE;
    }
    return 0;
}

int app_check_token_key(const services *s)
{
    db_conn *c = db_acquire(s->db);
    error e;
    int rc = token_keyring_check(s, c, &e);
    db_release(c);
    if (rc == 0)
        return 0;
    app_fail("%s: %s", e.field[0] ? e.field : "PSTUDIO_SECRET_KEY", e.message);
    return e.kind == ERR_CONFIG ? EXIT_USAGE : 1;
}

void app_check_clock(db *d, int warn_ms)
{
    /* SQLite lives on this machine and reads this clock: nothing to compare. */
    if (db_engine_of(d) != DB_ENGINE_POSTGRES)
        return;
    db_conn *c = db_acquire(d);
    int64_t best_rtt = INT64_MAX, skew = 0;
    error e;
    /* Three round trips; the shortest bounds the error best. */
    for (int i = 0; i < 3; i++) {
        int64_t db_now, t0 = time_now_usec();
        if (db_now_usec(c, &db_now, &e) != 0) {
            db_release(c);
            log_warn("could not read the database's clock to compare it with this machine's: %s",
                     e.message);
            return;
        }
        int64_t t1 = time_now_usec();
        if (t1 - t0 < best_rtt) {
            best_rtt = t1 - t0;
            skew = db_now - (t0 + (t1 - t0) / 2);
        }
    }
    db_release(c);
    /* The true offset lies within half the round trip of the estimate. */
    int64_t mag = skew < 0 ? -skew : skew;
    int64_t least = mag - best_rtt / 2;
    char fields[160];
    snprintf(fields, sizeof(fields), "\"clock_skew_ms\":%.1f,\"uncertainty_ms\":%.1f",
             (double)skew / 1000.0, (double)best_rtt / 2000.0);
    if (least > (int64_t)warn_ms * 1000)
        log_write(LOG_WARN, fields,
                  "this machine's clock is %.1f s %s the database's (more than "
                  "PSTUDIO_CLOCK_SKEW_WARN_MS=%d): job leases, sessions, rate-limit windows and "
                  "event streams assume clocks within a second; synchronise it (chrony, "
                  "systemd-timesyncd)",
                  (double)mag / 1e6, skew > 0 ? "behind" : "ahead of", warn_ms);
    else
        log_write(LOG_INFO, fields, "clock agrees with the database's");
}

int app_open_media(services *s, const config *c)
{
    char root[4096];
    error e;
    if (strcmp(c->media_store, "s3") == 0) {
        snprintf(root, sizeof(root), "%s/s3-spool", s->data_dir);
        media_s3_settings set = {
            .endpoint = c->s3_endpoint,
            .bucket = c->s3_bucket,
            .region = c->s3_region,
            .access_key_id = c->s3_access_key_id,
            .secret_key = c->s3_secret_access_key,
            .path_style = c->s3_path_style,
            .prefix = c->s3_prefix,
            .presigned = strcmp(c->s3_serve, "presigned") == 0,
            .presign_expiry_s = c->s3_presign_expiry_s,
            .part_size = (int64_t)c->s3_part_size_mb * 1024 * 1024,
            .cache_bytes = (int64_t)c->s3_cache_mb * 1024 * 1024,
            .spool_dir = root,
            .timeout_ms = c->s3_timeout_ms,
        };
        s->media = media_store_s3(&set, &e);
    } else {
        snprintf(root, sizeof(root), "%s/media", s->data_dir);
        s->media = media_store_local(root, &e);
    }
    if (s->media != NULL)
        return 0;
    app_fail("%s: %s", e.field[0] ? e.field : "PSTUDIO_DATA_DIR", e.message);
    return EXIT_USAGE;
}

void app_services_from_config(const config *c, services *s)
{
    services_defaults(s);
    s->cookie_secure = c->cookie_secure;
    s->event_streams_per_user = c->event_streams_per_user;
    s->data_dir = c->data_dir;
    s->secret_key_b64 = c->secret_key;
    s->ffmpeg = c->ffmpeg;
    s->media_timeout_ms = c->media_timeout_ms;
    s->render_timeout_ms = c->render_timeout_ms;

    llm_settings *l = &s->llm;
    l->provider = c->llm_provider;
    if (strcmp(l->provider, "auto") == 0)
        l->provider = c->gemini_api_key ? "gemini" : c->openai_api_key ? "openai" : "offline";
    l->model = c->llm_model;
    if (l->model == NULL)
        l->model = strcmp(l->provider, "gemini") == 0   ? "gemini-2.5-flash"
                   : strcmp(l->provider, "openai") == 0 ? "gpt-4o-mini"
                                                        : "offline-draft-writer";
    l->timeout_ms = c->llm_timeout_ms;
    l->gemini_base_url = c->gemini_base_url;
    l->gemini_api_key = c->gemini_api_key;
    l->openai_base_url = c->openai_base_url;
    l->openai_api_key = c->openai_api_key;
    l->openai_send_top_k = c->openai_send_top_k;

    tts_settings *t = &s->tts;
    t->provider = c->tts_provider;
    t->timeout_ms = c->tts_timeout_ms;
    t->openai_base_url = c->tts_openai_base_url ? c->tts_openai_base_url : c->openai_base_url;
    t->openai_api_key = c->openai_api_key;
    t->openai_model = c->tts_openai_model;
    t->openai_voice = c->tts_openai_voice;
    t->google_base_url = c->tts_google_base_url;
    t->google_api_key = c->tts_google_api_key;
    t->google_voice = c->tts_google_voice;
    t->ffmpeg = c->ffmpeg;
    t->ffmpeg_timeout_ms = c->media_timeout_ms;

    image_settings *im = &s->image;
    im->provider = c->image_provider;
    im->timeout_ms = c->image_timeout_ms;
    im->gemini_base_url = c->image_gemini_base_url ? c->image_gemini_base_url : c->gemini_base_url;
    im->gemini_api_key = c->image_gemini_api_key ? c->image_gemini_api_key : c->gemini_api_key;
    im->gemini_model = c->image_gemini_model;
    im->openai_base_url = c->image_openai_base_url ? c->image_openai_base_url : c->openai_base_url;
    im->openai_api_key = c->image_openai_api_key ? c->image_openai_api_key : c->openai_api_key;
    im->openai_model = c->image_openai_model;

    google_settings *g = &s->google;
    g->client_id = c->google_client_id;
    g->client_secret = c->google_client_secret;
    g->redirect_uri = c->google_redirect_uri;
    if (g->redirect_uri == NULL) {
        static char derived[300];
        snprintf(derived, sizeof(derived), "http://%s:%d/api/v1/google/callback", c->bind, c->port);
        g->redirect_uri = derived;
    }
    g->auth_url = c->google_auth_url;
    g->token_url = c->google_token_url;
    g->userinfo_url = c->google_userinfo_url;
    g->revoke_url = c->google_revoke_url;
    g->youtube_api_url = c->youtube_api_url;
    g->youtube_analytics_url = c->youtube_analytics_url;
    g->youtube_reporting_url = c->youtube_reporting_url;
    g->publishing = c->youtube_publishing;
    g->youtube_upload_url = c->youtube_upload_url;
    g->upload_chunk_bytes = (int64_t)(c->youtube_upload_chunk_kib / 256) * 256 * 1024;
    s->optimizer_min_evidence_days = c->optimizer_min_evidence_days;
    s->optimizer_cooldown_days = c->optimizer_cooldown_days;
    s->audit_retention_days = c->audit_retention_days;
}
