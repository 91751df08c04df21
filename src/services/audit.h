/*
 * audit: writing and reading the audit trail (domain/audit_store.h). A use
 * case that changes an account records an event with audit_record inside
 * the transaction of its change, so there is never an event without its
 * change nor a change without its event; a failed record fails the change.
 * The actor comes from the principal: its user, the API key it used, and
 * its client address; with as_admin the act is an administrator's on
 * another account. With no principal the actor is the system (jobs, the
 * command line) or, when an address is given, anonymous (a failed log-in).
 *
 * A detail is built here from typed members, never from a request body, so
 * no password, token, key or cookie can reach it; text members are cut to
 * AUDIT_TEXT_MAX characters.
 */
#ifndef PS_SERVICES_AUDIT_H
#define PS_SERVICES_AUDIT_H

#include "base/arena.h"
#include "base/error.h"
#include "db/db.h"
#include "domain/audit_store.h"
#include "domain/channel_store.h"
#include "domain/principal.h"

#include <jansson.h>
#include <stdbool.h>

#define AUDIT_TEXT_MAX 200 /* characters of one text member of a detail */

typedef struct audit_entry {
    const char *action;  /* one of audit_actions */
    const principal *by; /* NULL: the system, or anonymous when ip is set */
    bool as_admin;       /* an administrator acting on what is not theirs */
    const char *ip;      /* overrides by->client_ip (sign-up and log-in have no principal yet) */
    const char *subject; /* whose trail (a user id); NULL: nobody's */
    const char *object_type; /* "api_key", "persona" …, or NULL */
    const char *object_id;
    json_t *detail; /* an object (stolen, may be NULL); only ids, names, codes, counts */
} audit_entry;

/** Records e on c (in the caller's transaction). 0, or -1 with err filled. */
int audit_record(db_conn *c, const audit_entry *e, error *err);

/**
 * Records channel.persona_switched for the assignment row as (just written
 * in the caller's transaction) on the channel owner's trail: by the
 * principal for a manual switch, by the system for the optimizer's (by
 * NULL). The detail names the personas, the source and the reason.
 */
int audit_persona_switch(db_conn *c, const principal *by, const channel_assignment *as, error *err);

/** A JSON string of text cut to AUDIT_TEXT_MAX characters, or null for NULL. */
json_t *audit_text(const char *text);

/** The period from PSTUDIO_AUDIT_RETENTION_DAYS in microseconds (days 1-AUDIT_RETENTION_MAX). */
int64_t audit_retention_usec(int days);

#endif
