/*
 * services: what every use case shares. `services` is the process-wide
 * context (the database pool and the settings use cases need), created by
 * the app and handed to handlers through http_app(). `principal` is the
 * authenticated caller of one request, resolved by the auth service; every
 * use case that touches a tenant's data takes one and scopes by its user_id.
 */
#ifndef PS_SERVICES_SERVICES_H
#define PS_SERVICES_SERVICES_H

#include "base/uuid.h"
#include "domain/limits.h"

#include <stdbool.h>
#include <stdint.h>

struct db;

/* Where scripts are written. provider is resolved ("auto" never reaches here). */
typedef struct llm_settings {
    const char *provider; /* "offline" | "gemini" | "openai" */
    const char *model;    /* never NULL once resolved */
    int timeout_ms;
    const char *gemini_base_url;
    const char *gemini_api_key; /* secret: never logged or returned */
    const char *openai_base_url;
    const char *openai_api_key; /* secret */
    bool openai_send_top_k;
} llm_settings;

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
    bool publishing; /* also ask for youtube.upload */
} google_settings;

typedef struct services {
    struct db *db;
    llm_settings llm;
    google_settings google;
    const char *data_dir;          /* media and the default key file live here */
    const char *secret_key_b64;    /* PSTUDIO_SECRET_KEY, or NULL to use <data_dir>/secret.key */
    int64_t session_idle_usec;     /* a session unused this long expires */
    int64_t session_absolute_usec; /* a session older than this expires regardless */
    bool cookie_secure;            /* mark the session cookie Secure (behind HTTPS) */
    int login_max_attempts;        /* per account and per IP, per window */
    int event_streams_per_user;    /* open /api/v1/events streams one user may hold */
    int64_t login_window_usec;
} services;

typedef enum principal_via { PRINCIPAL_SESSION, PRINCIPAL_API_KEY } principal_via;

typedef struct principal {
    char user_id[UUID_STR_LEN + 1];
    char email[UTF8_BUF(USER_EMAIL_MAX)];
    bool is_admin;
    char plan_id[UUID_STR_LEN + 1];
    char plan_code[UTF8_BUF(PLAN_CODE_MAX)];
    int plan_rank;
    int max_channels;              /* -1: unlimited */
    int max_projects_per_month;    /* -1: unlimited */
    int max_generations_per_month; /* -1: unlimited */
    principal_via via;
    char credential_id[UUID_STR_LEN + 1]; /* the session or API key row */
    bool via_cookie;                      /* the session came in a cookie (CSRF applies) */
    /* The request carried this session's cookie, alone or beside the same
     * token as Bearer: the browser that sent it is signed in as the caller. */
    bool session_cookie;
} principal;

/** Sensible defaults for every field but db. */
void services_defaults(services *s);

#endif
