/*
 * h_generation: what the handlers that start a script generation share
 * (POST /projects in h_projects.c, and the regenerate routes): the request
 * controls' field specs, the Idempotency-Key header, and the 202 answer.
 */
#ifndef PS_HTTP_H_GENERATION_H
#define PS_HTTP_H_GENERATION_H

#include "http/api.h"
#include "services/script_service.h"

#include <stdbool.h>

/** Reads the controls of a body api_body() has checked (NULL body: none). */
void h_generation_options(const json_t *in, script_options *o);
/**
 * Reads the Idempotency-Key header for a request to scope with body; false
 * after a 422 when the key is malformed.
 */
bool h_generation_idempotency(http_request *r, const json_t *body, script_idempotency *out);
/** Sends the answer: Location of the project, and Idempotent-Replayed on a replay. */
void h_generation_reply(http_request *r, const script_reply *rep);

#endif
