/* RFC 9457 problem documents: the one shape every failure answer takes. */
#include "http/problem.h"

#include "base/buf.h"
#include "base/jsonout.h"
#include "base/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *http_problem_json(int status, const char *type_slug, const char *title, const char *detail,
                          const char *instance, const char *request_id)
{
    json_t *doc = json_object();
    char type[128];
    if (type_slug != NULL)
        snprintf(type, sizeof(type), "/problems/%s", type_slug);
    else
        snprintf(type, sizeof(type), "about:blank");
    json_object_set_new(doc, "type", json_string(type));
    json_object_set_new(doc, "title", json_string(title ? title : ""));
    json_object_set_new(doc, "status", json_integer(status));
    if (detail != NULL)
        json_object_set_new(doc, "detail", json_string(detail));
    if (instance != NULL)
        json_object_set_new(doc, "instance", json_string(instance));
    if (request_id != NULL)
        json_object_set_new(doc, "request_id", json_string(request_id));
    return doc;
}

/* A problem document is a few short members; a detail never comes near this. */
#define PROBLEM_TEXT_CAP (256u << 10)

/* Writes doc (consumed). json_string() refuses invalid UTF-8 and yields NULL
 * members, so a detail quoting raw client bytes degrades to a missing member
 * rather than a broken document. */
void http_problem_text(json_t *doc, int *status, buf *text)
{
    buf_init(text, PROBLEM_TEXT_CAP);
    int rc = jsonout_value(text, doc);
    json_decref(doc);
    if (rc != BUF_OK) {
        static const char fallback[] = "{\"type\":\"/problems/internal\",\"title\":\"Internal "
                                       "server error\",\"status\":500}";
        buf_free(text);
        buf_init(text, PROBLEM_TEXT_CAP);
        buf_puts(text, fallback);
        *status = 500;
    }
}

typedef struct problem_kind {
    int status;
    const char *slug;
    const char *title;
} problem_kind;

static problem_kind kind_of(error_kind k)
{
    switch (k) {
    case ERR_INVALID:
        return (problem_kind){422, "invalid-request", "Invalid request"};
    case ERR_NOT_FOUND:
        return (problem_kind){404, "not-found", "Not found"};
    case ERR_CONFLICT:
        return (problem_kind){409, "conflict", "Conflict"};
    case ERR_CONSTRAINT:
        return (problem_kind){422, "constraint-violation", "Constraint violation"};
    case ERR_TOO_LARGE:
        return (problem_kind){413, "payload-too-large", "Payload too large"};
    case ERR_UNAVAILABLE:
        return (problem_kind){503, "unavailable", "Service unavailable"};
    case ERR_UNAUTHORIZED:
        return (problem_kind){401, "unauthorized", "Unauthorized"};
    case ERR_FORBIDDEN:
        return (problem_kind){403, "forbidden", "Forbidden"};
    case ERR_PLAN_LIMIT:
        return (problem_kind){403, "plan-limit-reached", "Plan limit reached"};
    case ERR_PLAN_REQUIRED:
        return (problem_kind){403, "plan-upgrade-required", "Plan upgrade required"};
    case ERR_NO_PERSONA:
        return (problem_kind){409, "persona-unavailable", "Persona unavailable"};
    case ERR_PRECONDITION:
        return (problem_kind){412, "precondition-failed", "Precondition failed"};
    case ERR_RATE_LIMITED:
        return (problem_kind){429, "rate-limited", "Too many requests"};
    case ERR_NO_SPACE:
        /* RFC 4918's "unable to store the representation needed to
         * complete the request" (decision 142). */
        return (problem_kind){507, "storage-full", "Storage full"};
    case ERR_NONE:
    case ERR_CONFIG:
    case ERR_INTERNAL:
        break;
    }
    return (problem_kind){500, "internal", "Internal server error"};
}

json_t *http_problem_of_error(const error *e, const char *instance, const char *request_id,
                              int *status)
{
    problem_kind pk = kind_of(e->kind);
    const char *detail = e->message;
    if (pk.status == 507) {
        /* Paths and devices are for operators; the caller learns that
         * nothing was saved and that retrying later may work. */
        log_error("storage full: %s", e->message);
        detail = "The server's storage is full, so nothing of this request was saved; try again "
                 "later.";
    } else if (pk.status == 500) {
        /* The message is for operators; the request id ties the answer to it. */
        log_error("%s error: %s%s%s", error_kind_name(e->kind), e->message,
                  e->field[0] ? " field=" : "", e->field);
        detail = "The server failed to handle this request; quote the request id when "
                 "reporting it.";
    }
    json_t *doc = http_problem_json(pk.status, pk.slug, pk.title, detail, instance, request_id);
    if (e->field[0])
        json_object_set_new(doc, "field", json_string(e->field));
    *status = pk.status;
    return doc;
}
