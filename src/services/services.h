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

#include <stdbool.h>
#include <stdint.h>

struct db;

typedef struct services {
    struct db *db;
    int64_t session_idle_usec;     /* a session unused this long expires */
    int64_t session_absolute_usec; /* a session older than this expires regardless */
    bool cookie_secure;            /* mark the session cookie Secure (behind HTTPS) */
    int login_max_attempts;        /* per account and per IP, per window */
    int64_t login_window_usec;
} services;

typedef enum principal_via { PRINCIPAL_SESSION, PRINCIPAL_API_KEY } principal_via;

typedef struct principal {
    char user_id[UUID_STR_LEN + 1];
    char email[256];
    bool is_admin;
    char plan_id[UUID_STR_LEN + 1];
    char plan_code[33];
    int plan_rank;
    int max_channels;           /* -1: unlimited */
    int max_projects_per_month; /* -1: unlimited */
    principal_via via;
    char credential_id[UUID_STR_LEN + 1]; /* the session or API key row */
    bool via_cookie;                      /* the session came in a cookie (CSRF applies) */
} principal;

/** Sensible defaults for every field but db. */
void services_defaults(services *s);

#endif
