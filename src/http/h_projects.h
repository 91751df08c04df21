/*
 * h_projects: what other handler files share of the projects resource: a
 * scene as the API shows it.
 */
#ifndef PS_HTTP_H_PROJECTS_H
#define PS_HTTP_H_PROJECTS_H

#include "base/jsonout.h"
#include "domain/project_store.h"
#include "domain/scene_store.h"

/** Writes one scene as the scenes routes answer it. */
void h_projects_scene_write(jw *w, const scene *sc);
/** A project's members as the API shows them (its columns and its video), inside an object. */
void h_projects_members_write(jw *w, const project *pr);
/** h_projects_members_write as one object. */
void h_projects_project_write(jw *w, const project *pr);

#endif
