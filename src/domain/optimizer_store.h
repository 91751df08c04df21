/*
 * optimizer_store: what the optimization loop (issue 13) reads and keeps.
 *
 *  - Suggestions (optimizer_suggestions): the persona proposed for a
 *    channel, with its evidence and its state (open, accepted, dismissed).
 *    Every query is scoped by the owner's user_id, except the ones the daily
 *    job makes for a channel it already holds.
 *  - Evidence: a channel's DAY rows of channel_analytics, each attributed
 *    to a persona exactly as domain/performance_store.h says (the latest
 *    assignment made before the day's end; none: unattributed), streamed
 *    one row at a time so memory stays bounded whatever the window holds;
 *    the same for the pool of other channels (the owner's, and other
 *    users' channels whose persona speaks the channel's language), in
 *    channel order; and a persona's generations and failures from
 *    persona_usage_logs.
 */
#ifndef PS_DOMAIN_OPTIMIZER_STORE_H
#define PS_DOMAIN_OPTIMIZER_STORE_H

#include "base/arena.h"
#include "base/error.h"
#include "base/uuid.h"
#include "db/db.h"
#include "domain/row.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct opt_suggestion {
    char id[UUID_STR_LEN + 1];
    char channel_id[UUID_STR_LEN + 1];
    char user_id[UUID_STR_LEN + 1];
    const char *persona_id;         /* the proposed persona */
    const char *current_persona_id; /* the channel's persona when proposed; NULL: none */
    const char *objective;
    double p_beats_current;
    double uplift;         /* expected relative uplift, natural scale (0.12: +12 %) */
    int64_t proposed_days; /* with current_days: the evidence's fingerprint */
    int64_t current_days;
    const char *evidence; /* JSON text */
    const char *state;    /* "open" | "accepted" | "dismissed" */
    int64_t created_at;
    int64_t decided_at; /* 0: open */
} opt_suggestion;

extern const row_spec opt_suggestion_row;

/** Inserts s as given. */
int optimizer_store_suggestion_insert(db_conn *c, const opt_suggestion *s, error *err);
/**
 * The user's suggestion for the channel; ERR_NOT_FOUND ("no suggestion with
 * id …") for a malformed id, another channel's or another user's.
 */
int optimizer_store_suggestion_get(db_conn *c, arena *a, const char *user_id,
                                   const char *channel_id, const char *id, opt_suggestion *out,
                                   error *err);
/**
 * The channel's latest suggestion in `state` proposing persona_id against
 * current_persona_id (NULL matches none); *found false when there is none.
 */
int optimizer_store_suggestion_find(db_conn *c, arena *a, const char *channel_id,
                                    const char *persona_id, const char *current_persona_id,
                                    const char *state, opt_suggestion *out, bool *found,
                                    error *err);
/**
 * Moves the user's open suggestion to state at `at`; ERR_CONFLICT naming
 * its state when it is no longer open.
 */
int optimizer_store_suggestion_decide(db_conn *c, const char *user_id, const char *id,
                                      const char *state, int64_t at, error *err);

/* One attributed DAY row. */
typedef struct optimizer_day {
    char channel_id[UUID_STR_LEN + 1];
    char user_id[UUID_STR_LEN + 1];
    char persona_id[UUID_STR_LEN + 1]; /* "": unattributed */
    bool explored;                     /* its assignment was an optimizer's exploration */
    int64_t day;
    double views, watch_minutes;
    double impressions;   /* < 0: unknown */
    double avg_retention; /* < 0: unknown */
    double subscribers_net;
} optimizer_day;

/* Gets each row; returns 0 to go on, -1 (err filled) to stop with failure. */
typedef int (*optimizer_day_fn)(const optimizer_day *d, void *ctx, error *err);

/** The channel's DAY rows dated from..to (days), by date. */
int optimizer_store_channel_days(db_conn *c, const char *channel_id, int64_t from, int64_t to,
                                 optimizer_day_fn fn, void *ctx, error *err);
/**
 * The pool's DAY rows dated from..to, ordered by channel: every channel of
 * owner_id but channel_id, and other users' channels whose persona's
 * language is `language`.
 */
int optimizer_store_pool_days(db_conn *c, const char *owner_id, const char *channel_id,
                              const char *language, int64_t from, int64_t to, optimizer_day_fn fn,
                              void *ctx, error *err);
/**
 * When the channel's latest assignment that restarts the cooldown was made:
 * the owner's, or an optimizer's switch (not an exploration's trial or its
 * return); *found false when there is none.
 */
int optimizer_store_last_switch(db_conn *c, const char *channel_id, int64_t *at, bool *found,
                                error *err);
/** The channel's latest DAY row's date; *found false when it has none. */
int optimizer_store_last_day(db_conn *c, const char *channel_id, int64_t *day, bool *found,
                             error *err);
/** The persona's usage logs (every user's) written in [from, to) (usec). */
int optimizer_store_usage(db_conn *c, const char *persona_id, int64_t from, int64_t to,
                          int64_t *generations, int64_t *failures, error *err);
/** The persona's language into out (n bytes); "" when there is no such persona. */
int optimizer_store_persona_language(db_conn *c, const char *persona_id, char *out, size_t n,
                                     error *err);

#endif
