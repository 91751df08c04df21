/*
 * project_json: the JSON form of a project (without its scenes), written
 * once here for every place that shows one: the API's representation of a
 * project, and the answer script_service keeps under an Idempotency-Key and
 * replays byte for byte. It depends on nothing but the row, so the answer a
 * service stores is the one a handler would write.
 */
#ifndef PS_DOMAIN_PROJECT_JSON_H
#define PS_DOMAIN_PROJECT_JSON_H

#include "base/jsonout.h"
#include "domain/project_store.h"

/** Writes the members of pr into an object the caller opened (it may add more, say scenes). */
void project_json_members(jw *w, const project *pr);
/** Writes pr as one object. */
void project_json_write(jw *w, const project *pr);

#endif
