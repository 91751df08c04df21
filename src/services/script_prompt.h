/*
 * script_prompt: what script_service asks a model, and what it accepts back.
 * It turns a persona, a project and the caller's options into an
 * llm_request (the prompt, the JSON schema of a script or of one scene,
 * and the brief the offline writer works from), and checks an answer
 * against the bounds the scenes and projects tables enforce, beyond what
 * the schema says: no blank narration, the asked number of scenes. Private
 * to script_service; no database, no network.
 */
#ifndef PS_SERVICES_SCRIPT_PROMPT_H
#define PS_SERVICES_SCRIPT_PROMPT_H

#include "base/arena.h"
#include "domain/persona_store.h"
#include "domain/project_store.h"
#include "domain/scene_store.h"
#include "providers/llm.h"
#include "services/script_service.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Seconds of narration one scene carries, to turn target_seconds into
 * scenes. Past SCRIPT_SCENES_MAX of them the scenes get longer instead:
 * SCRIPT_SECONDS_MAX is 30 scenes of 60 s. */
#define SCRIPT_SECONDS_PER_SCENE 12
/* Narration speed, to tell a scene's length in words: 150 a minute. */
#define SCRIPT_WORDS_PER_MINUTE 150
/* Scenes the offline writer writes when nothing was asked. */
#define SCRIPT_DEFAULT_SCENES 6

/* Everything a request is built from. */
typedef struct script_ask {
    const persona *ps;
    const project *pr;
    const script_options *o;
    const char *language; /* resolved: the option, else the persona's */
    const char *seed;     /* offline variation: persona id and version (+ job for a scene) */
    /* one scene: */
    const scene *scenes; /* the project's scenes, in order */
    size_t nscenes;
    int scene_index; /* -1: whole script */
} script_ask;

/* A checked answer, trimmed, with its strings in the arena. */
typedef struct script_answer {
    const char *title;
    const char *description;
    const char **tags;
    size_t ntags;
    const char **visual; /* one per scene */
    const char **narration;
    size_t nscenes;
} script_answer;

/**
 * Fills rq (and brief, which rq points to) from ask; the prompt, the schema
 * and the strings live in a (the schema in *schema_out, released by the
 * caller with json_decref).
 */
void script_prompt_build(arena *a, const script_ask *ask, llm_request *rq, llm_brief *brief,
                         json_t **schema_out);
/**
 * Checks a schema-valid answer against the tables' bounds and the asked
 * scene count, trimming blanks. Returns 0, or -1 with why filled.
 */
int script_prompt_accept(arena *a, const script_ask *ask, const json_t *answer, script_answer *out,
                         char *why, size_t why_n);

#endif
