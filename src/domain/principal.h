/*
 * principal: the authenticated caller of one request, as the users and
 * plans tables describe them: who they are, whether they are an admin, and
 * the limits of their plan. Sessions and API keys (session_store,
 * apikey_store) resolve to one with a single join; every use case that
 * touches a tenant's data takes one and scopes by its user_id.
 */
#ifndef PS_DOMAIN_PRINCIPAL_H
#define PS_DOMAIN_PRINCIPAL_H

#include "base/uuid.h"
#include "db/db.h"
#include "domain/limits.h"

#include <stdbool.h>

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
    /* The client's address for this request (http_client_ip: behind trusted
     * proxies, the forwarded one), filled by the HTTP layer after the
     * credential is resolved; "" outside a request. The audit trail records
     * it. */
    char client_ip[46];
} principal;

/* The columns principal_read() reads by these names, from users u joined to plans p. */
#define PRINCIPAL_COLS                                                                             \
    "u.id AS user_id, u.email AS email, (u.role = 'admin') AS is_admin, p.id AS plan_id, "         \
    "p.code AS plan_code, p.rank AS plan_rank, p.max_channels AS max_channels, "                   \
    "p.max_projects_per_month AS max_projects_per_month, "                                         \
    "p.max_generations_per_month AS max_generations_per_month"
#define PRINCIPAL_NCOLS 9

/**
 * Reads the PRINCIPAL_COLS that start at column `at` of the current row into
 * p, by name (the rest of p is zeroed: via and the credential are the
 * caller's to fill after); -1 when a text does not fit its buffer.
 */
int principal_read(db_stmt *s, int at, principal *p);

#endif
