/*
 * problem: RFC 9457 problem documents, the one shape every failure answer
 * takes, built from their parts or from an error. Nothing here knows a
 * request: the server (server.c) sends what this module builds, so the
 * server depends on this module and never the other way round.
 */
#ifndef PS_HTTP_PROBLEM_H
#define PS_HTTP_PROBLEM_H

#include "base/buf.h"
#include "base/error.h"

#include <jansson.h>

#define HTTP_PROBLEM_CONTENT_TYPE "application/problem+json"

/**
 * A new problem object {type, title, status, detail, instance?, request_id?}.
 * A NULL slug gives "about:blank"; NULL detail, instance or request_id are left out.
 */
json_t *http_problem_json(int status, const char *type_slug, const char *title, const char *detail,
                          const char *instance, const char *request_id);
/**
 * The problem matching e->kind (see http_reply_error() in http.h), with
 * e->field as the "field" member; *status is its HTTP status. The message
 * of a 500 is logged, not put in the document: it may hold SQL or paths.
 */
json_t *http_problem_of_error(const error *e, const char *instance, const char *request_id,
                              int *status);
/**
 * Writes doc (consumed) as text into text, which this initializes and the
 * caller frees. A document that cannot be written becomes a fixed 500
 * problem, and *status 500.
 */
void http_problem_text(json_t *doc, int *status, buf *text);

#endif
