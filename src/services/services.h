/*
 * services: what every use case shares. `services` is the process-wide
 * context (the database pool and the settings use cases need), created by
 * the app and handed to handlers through http_app(). `principal`
 * (domain/principal.h) is the authenticated caller of one request, resolved
 * by the auth service; every use case that touches a tenant's data takes one
 * and scopes by its user_id.
 */
#ifndef PS_SERVICES_SERVICES_H
#define PS_SERVICES_SERVICES_H

#include "domain/principal.h"
#include "providers/image.h"
#include "providers/llm_settings.h"
#include "providers/tts.h"

#include <stdbool.h>
#include <stdint.h>

struct db;
struct auth_cache;
struct media_store;

/* Google OAuth and YouTube endpoints; every URL is configurable for tests. */
typedef struct google_settings {
    const char *client_id;     /* NULL: Google connect is not configured */
    const char *client_secret; /* secret */
    const char *redirect_uri;
    const char *auth_url;
    const char *token_url;
    const char *userinfo_url;
    const char *revoke_url;
    const char *youtube_api_url;
    const char *youtube_analytics_url; /* the YouTube Analytics API v2 root */
    const char *youtube_reporting_url; /* the YouTube Reporting API v1 root; the only origin a
                                          report is downloaded from */
    bool publishing;                   /* also ask for youtube.upload, and allow publishing */
    const char *youtube_upload_url;    /* media uploads' root: {it}/youtube/v3/videos */
    int64_t upload_chunk_bytes;        /* per resumable PUT; a multiple of 256 KiB */
} google_settings;

typedef struct services {
    struct db *db;
    /* Sessions and API keys resolved recently (services/auth_cache.h); NULL:
     * every request is authenticated in the database (SQLite, or turned off). */
    struct auth_cache *auth_cache;
    llm_settings llm;
    tts_settings tts;     /* the narrator; zeroed: offline */
    image_settings image; /* the scene-image model; zeroed: offline (the card) */
    google_settings google;
    const char *data_dir; /* media and the default key file live here */
    /* Where media files are kept (providers/media_store.h), owned by the
     * app; NULL: media cannot be produced or served (503). */
    struct media_store *media;
    const char *ffmpeg;    /* the program, by name or path */
    int media_timeout_ms;  /* one ffmpeg run at most */
    int render_timeout_ms; /* one video render (its ffmpeg run) at most */
    /* Tests watch a render's progress through this (NULL: nobody does);
     * called after each progress write, per mille of the video. */
    void (*render_observer)(const char *project_id, int permille, void *ctx);
    void *render_observer_ctx;
    const char *secret_key_b64;    /* PSTUDIO_SECRET_KEY, or NULL to use <data_dir>/secret.key */
    int64_t session_idle_usec;     /* a session unused this long expires */
    int64_t session_absolute_usec; /* a session older than this expires regardless */
    bool cookie_secure;            /* mark the session cookie Secure (behind HTTPS) */
    int login_max_attempts;        /* per account and per IP, per window */
    int event_streams_per_user;    /* open /api/v1/events streams one user may hold */
    int64_t login_window_usec;
    int optimizer_min_evidence_days; /* channel-days of both personas before a suggestion or switch
                                      */
    int optimizer_cooldown_days;     /* days between two switches in auto mode */
    int audit_retention_days;        /* the audit trail keeps an event this long */
} services;

/** Sensible defaults for every field but db. */
void services_defaults(services *s);

#endif
