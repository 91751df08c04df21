/*
 * h_projects: what the projects handlers share with the generation
 * handlers (h_generation.c), which answer with the same representation.
 */
#ifndef PS_HTTP_H_PROJECTS_H
#define PS_HTTP_H_PROJECTS_H

#include "domain/project_store.h"

#include <jansson.h>

/** The API representation of a project, without its scenes (a new reference). */
json_t *h_projects_json(const project *pr);

#endif
