/*
 * audit_store: the audit_events table, the append-only trail of what was
 * done to an account (sign-ins, credentials, Google links, plan changes,
 * persona deletions, persona switches on channels, administrators' acts).
 * A row is inserted in the transaction of the change it describes and is
 * never updated (the schema refuses it); the only delete is the retention
 * prune. Actions come from a fixed vocabulary (audit_actions); an unknown
 * one is a programming error, refused with ERR_INTERNAL before any write.
 * Rows cross this API as audit_event structs whose text lives in the
 * caller's arena.
 */
#ifndef PS_DOMAIN_AUDIT_STORE_H
#define PS_DOMAIN_AUDIT_STORE_H

#include "base/arena.h"
#include "base/error.h"
#include "base/uuid.h"
#include "db/db.h"
#include "domain/limits.h"
#include "domain/row.h"

#include <stddef.h>
#include <stdint.h>

typedef struct audit_event {
    char id[UUID_STR_LEN + 1];
    int64_t occurred_at;          /* the database's clock at the insert */
    const char *actor_kind;       /* user | api_key | admin | system | anonymous */
    const char *actor_user_id;    /* NULL for system and anonymous */
    const char *actor_api_key_id; /* the key that acted, or NULL */
    const char *subject_user_id;  /* whose trail; NULL: nobody's */
    const char *action;           /* one of audit_actions */
    const char *object_type;      /* "api_key", "persona" … or NULL */
    const char *object_id;
    const char *client_ip; /* the client address (behind trusted proxies) or NULL */
    const char *detail;    /* a JSON object's text; NULL is {} */
} audit_event;

extern const char *const audit_actor_kinds[];
/* The vocabulary, NULL-terminated: "auth.login", "apikey.created", … */
extern const char *const audit_actions[];
extern const row_spec audit_event_row;

/** Whether action is one of audit_actions. */
bool audit_action_known(const char *action);

/**
 * Inserts ev (its id is filled in here; occurred_at is the database's).
 * ERR_INTERNAL for an unknown action or kind, or a detail over
 * AUDIT_DETAIL_MAX bytes: callers build these, clients never do.
 */
int audit_store_insert(db_conn *c, audit_event *ev, error *err);

/* What a list reads: one user's trail or everyone's, narrowed. */
typedef struct audit_filter {
    const char *subject_user_id; /* NULL: every user's and nobody's (admins) */
    const char *action_prefix;   /* NULL: every action */
    int64_t since;               /* occurred_at >= since; 0: no bound */
    int64_t until;               /* occurred_at < until; 0: no bound */
    const char *cursor;          /* the last id of the previous page, or NULL */
} audit_filter;

/** Events newest first (by id, UUIDv7) matching f, up to limit, in a. */
int audit_store_list(db_conn *c, arena *a, const audit_filter *f, int limit, audit_event **out,
                     size_t *n, error *err);

/** Deletes up to limit events that occurred before `before`; *deleted says how many. */
int audit_store_prune(db_conn *c, int64_t before, int limit, int64_t *deleted, error *err);

#endif
