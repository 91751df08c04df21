/*
 * api: what every /api/v1 handler shares, so that twenty handlers do not
 * repeat the same parse, validate and serialize.
 *
 *  - api_auth(): the caller, from a Bearer session token, a Bearer API key, or
 *    the session cookie (state-changing cookie requests need the CSRF header).
 *  - api_conn(): a database connection borrowed for the rest of the request.
 *  - api_body(): the body as one JSON object, checked against a row spec:
 *    unknown fields, fields the caller may not set, wrong types and values out
 *    of range are refused with one problem that lists every fault.
 *  - api_page(): cursor pagination on UUIDv7 ids (limit 1-100, default 20).
 *
 * Every api_* function that can fail replies itself and returns NULL/false,
 * so a handler just returns: `if (!(p = api_auth(r))) return;`.
 */
#ifndef PS_HTTP_API_H
#define PS_HTTP_API_H

#include "db/db.h"
#include "domain/row.h"
#include "http/http.h"
#include "services/services.h"

#include <jansson.h>
#include <stdbool.h>

/* ---- auth -------------------------------------------------------------- */

/** The authenticated caller, or NULL after a 401 (or 403 for a missing CSRF header). */
const principal *api_auth(http_request *r);
/** Same, and the caller must be an admin: 403 "forbidden" otherwise. */
const principal *api_auth_admin(http_request *r);
/**
 * Same, and the caller must have signed in with a password (a session, by
 * cookie or Bearer): an API key gets 403 "session-required". Credentials
 * (API keys, sessions) are managed only this way, so a leaked key cannot
 * mint keys that outlive its revocation or sign its owner out.
 */
const principal *api_auth_session(http_request *r);
/** Replies 403 "session-required" saying what `action` needs. */
void api_reply_session_required(http_request *r, const char *action);
services *api_services(http_request *r);

/* ---- database ------------------------------------------------------------ */

/** A connection held until the handler returns (released by http_defer). */
db_conn *api_conn(http_request *r);
/** Replies with the problem for a db error (409 unique, 422 constraint, 503 …). */
void api_reply_db_error(http_request *r, const db_error *de, const char *field);

/* ---- input ---------------------------------------------------------------- */

typedef enum api_mode { API_CREATE, API_UPDATE } api_mode;

/**
 * Parses the body as one JSON object and checks it against spec (a table's
 * row spec, or a spec of body fields: domain/row.h, row_check_body): only
 * fields a client may write in this mode, of their type and within their
 * limits; in API_CREATE mode the required ones must be present, in
 * API_UPDATE mode at least one field must be. UUIDs are lowercased. Returns
 * the object (owned by the request: do not decref), or NULL after replying
 * 400 "malformed-json", 415, or 422 "invalid-request" with "errors":
 * [{"field", "message"}]. p may be NULL for anonymous endpoints.
 */
json_t *api_body(http_request *r, const row_spec *spec, api_mode mode, const principal *p);
/** Checks that only these query parameters are present (NULL-terminated); 422 otherwise. */
bool api_query_allowed(http_request *r, const char *const *names);

/** The `{name}` path parameter as a UUID; a malformed one is a 404 (no such object). */
const char *api_uuid_param(http_request *r, const char *name, const char *what);

/* ---- output --------------------------------------------------------------- */

typedef struct api_page {
    int limit;          /* 1-100, default 20 */
    const char *cursor; /* NULL for the first page; a UUID otherwise */
} api_page;

/** Reads ?limit= and ?cursor=; false after a 422. */
bool api_page_read(http_request *r, api_page *pg);
/**
 * Reads the optional RFC 3339 query parameter name into *out (left as it
 * is when absent); false after a 422 naming it.
 */
bool api_time_param(http_request *r, const char *name, int64_t *out);
/** Replies 200 {"items": items, "next_cursor": next or null}; steals items. */
void api_reply_page(http_request *r, json_t *items, const char *next_cursor);
/* The same page written row by row: api_page_begin opens {"items":[, the
 * caller writes one value per row on j->w, api_page_end closes the list,
 * adds next_cursor and replies. */
void api_page_begin(http_json *j);
void api_page_end(http_request *r, http_json *j, const char *next_cursor);
/* A range of days written row by row (the analytics reads): the caller
 * has opened the object and written its own members; api_days_begin adds
 * period, from and to (YYYY-MM-DD, days since the epoch given) and opens
 * "items":[, the caller writes one value per row on j->w, api_days_end
 * closes the list and the object and replies 200. */
void api_days_begin(http_json *j, const char *period, int64_t from, int64_t to);
void api_days_end(http_request *r, http_json *j);
/** Replies 404 "not-found" saying "no <what> with id <id>". */
void api_reply_not_found(http_request *r, const char *what, const char *id);
/** Sets ETag: W/"<version>" … for optimistic concurrency. */
void api_set_etag(http_request *r, int64_t version);
/**
 * Reads If-Match. Returns -1 when absent, else the version it names; a
 * malformed one replies 412 and sets *bad.
 */
int64_t api_if_match(http_request *r, bool *bad);

/** A JSON string for a time (RFC 3339), or null for 0. */
json_t *api_time(int64_t usec);

#endif
