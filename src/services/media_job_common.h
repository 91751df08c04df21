/*
 * The one skeleton of the scene-media jobs (media.audio in media_job.c,
 * media.image in media_image_job.c): reading the payload, the state
 * transaction (set a state, and optionally complete the job, only at the
 * generation the job was queued for), fail, transient (retry, or give up on
 * the last attempt), complete-only, the run prologue, the dead handler and
 * removing older generations' files. A kind (media_job_kind) names what
 * differs: its tag letter, how its state is written, what it produces and
 * the files a generation has. Private to those two files.
 */
#ifndef PS_SERVICES_MEDIA_JOB_COMMON_H
#define PS_SERVICES_MEDIA_JOB_COMMON_H

#include "base/arena.h"
#include "base/error.h"
#include "db/db.h"
#include "domain/scene_store.h"
#include "jobs/queue.h"
#include "providers/media_store.h"
#include "services/services.h"

#include <stdbool.h>
#include <stdint.h>

/* The scene a media job is for, at the generation it was queued for. */
typedef struct media_job_scene {
    const char *project_id; /* in the job's payload */
    const char *scene_id;
    int64_t generation;
    char stem[96]; /* scene-<id>-<tag><generation>: its files' names start so */
} media_job_scene;

/* What a job writes on its scene, whichever kind: the kind's set_state maps
 * it to its own columns (duration_ms only means something for audio). */
typedef struct media_job_state {
    const char *status;  /* PROCESSING | COMPLETED | FAILED | PENDING */
    const char *error;   /* FAILED: why; else NULL */
    const char *path;    /* COMPLETED: the media name the scene records; else unchanged */
    int64_t duration_ms; /* COMPLETED audio: the narration's length; else -1 (unchanged) */
} media_job_state;

typedef struct media_job_kind media_job_kind;

/* One attempt at one scene's media. */
typedef struct media_job_task {
    services *s;
    db_conn *c;
    arena *a;
    const job *j;
    const media_job_kind *kind;
    media_job_scene js;
    scene sc; /* as read when the attempt began */
} media_job_task;

/* What produce() made of the attempt. */
typedef enum media_job_outcome {
    MEDIA_PRODUCED = 0, /* every file written: the scene becomes COMPLETED */
    MEDIA_PERMANENT,    /* can never succeed: the scene FAILED with reason */
    MEDIA_TRANSIENT,    /* try again (after retry_after_s when >= 0) */
} media_job_outcome;

/* The most files a product commits with its state: an image's two shapes. */
#define MEDIA_JOB_FILES_MAX 2

typedef struct media_job_product {
    media_job_outcome outcome;
    char reason[640];    /* MEDIA_PERMANENT, MEDIA_TRANSIENT */
    long retry_after_s;  /* MEDIA_TRANSIENT: the provider's Retry-After; -1 when none */
    char path[128];      /* MEDIA_PRODUCED: the name the scene records */
    int64_t duration_ms; /* MEDIA_PRODUCED: audio's length; -1 otherwise */
    /* Store temporaries made by media_job_temp(): committed in the
     * transaction that records COMPLETED, all or none, and discarded on
     * every other path (a failure, the scene asked for again since). */
    media_temp files[MEDIA_JOB_FILES_MAX];
    int nfiles;
} media_job_product;

struct media_job_kind {
    const char *job_kind; /* MEDIA_JOB_AUDIO, MEDIA_JOB_IMAGE */
    char tag;             /* the letter in the file stem: 'a', 'i' */
    const char *what;     /* for messages: "narration", "the image" */
    /* The names' endings of one generation's files (NULL-terminated). */
    const char *const *suffixes;
    /* The scene's current generation of this kind. */
    int64_t (*generation)(const scene *sc);
    /* Writes st at js's generation (*matched says whether it was). */
    int (*set_state)(db_conn *c, const job *j, const media_job_scene *js, const media_job_state *st,
                     bool *matched, error *err);
    /* Makes the files with no transaction open, into media_job_temp()
     * temporaries (committed with the state) or written by itself; fills out. */
    void (*produce)(media_job_task *t, media_job_product *out);
};

/**
 * Reads j's payload {project_id, scene_id, generation}; tag is the kind's
 * letter in the file stem ('a' audio, 'i' image). ERR_INVALID (field
 * "payload") when anything is missing or not a UUID, or j has no user.
 */
int media_job_scene_of(const job *j, char tag, media_job_scene *out, error *err);

/** why as a scene keeps it: at most SCENE_AUDIO_ERROR_MAX bytes, cut on a character boundary. */
const char *media_job_reason(arena *a, const char *why);

/** Completes j alone, in its own transaction: 0, or -1 with err filled. */
int media_job_complete_only(db_conn *c, const job *j, error *err);

/**
 * True when an attempt that failed with e can never succeed as things
 * stand: a configuration fault, or a full disk (decision 142: the scene
 * FAILED at once, saying so, rather than retries against the full disk).
 */
bool media_job_permanent(const error *e);

/**
 * A store temporary that becomes the file <stem><suffix> of t's generation
 * when the attempt records COMPLETED (decision 160), into *out; it belongs
 * to p, which holds at most MEDIA_JOB_FILES_MAX. Errors are the store's.
 */
int media_job_temp(media_job_task *t, media_job_product *p, const char *suffix, media_temp **out,
                   error *err);

/** Fills p as a failure of outcome o with a formatted reason. */
__attribute__((format(printf, 3, 4))) void
media_job_product_fail(media_job_product *p, media_job_outcome o, const char *fmt, ...);

/** One attempt of a job of kind k (the job handler's body); ctx is the services. */
void media_job_handle(const media_job_kind *k, db_conn *c, const job *j, job_result *out,
                      void *ctx);
/** A job of kind k that died without its handler deciding: its scene FAILED with why. */
void media_job_dead(const media_job_kind *k, db_conn *c, const job *j, const char *why, void *ctx);

#endif
