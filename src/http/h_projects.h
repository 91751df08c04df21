/*
 * h_projects: what the projects handlers share with the generation
 * handlers (h_generation.c), which answer with the same representation.
 */
#ifndef PS_HTTP_H_PROJECTS_H
#define PS_HTTP_H_PROJECTS_H

#include "base/jsonout.h"
#include "domain/project_store.h"

/** Writes the API representation of a project, without its scenes. */
void h_projects_write(jw *w, const project *pr);

#endif
