/*
 * user_store: the users table: sign-up, log-in, and the admin side (role,
 * plan and name changes). Rows cross this API as user structs whose text
 * lives in the caller's arena; every function takes a borrowed connection
 * so callers choose the transaction. Emails are unique case-insensitively
 * (a unique index on lower(email)), and a duplicate comes back as
 * ERR_CONFLICT.
 */
#ifndef PS_DOMAIN_USER_STORE_H
#define PS_DOMAIN_USER_STORE_H

#include "base/arena.h"
#include "base/error.h"
#include "base/uuid.h"
#include "db/db.h"
#include "domain/limits.h"
#include "domain/row.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct user {
    char id[UUID_STR_LEN + 1];
    const char *email;
    const char *name;
    const char *role; /* "admin" | "user" */
    const char *plan; /* the plan's code, joined (admin views) */
    int64_t created_at;
    int64_t updated_at;
    char plan_id[UUID_STR_LEN + 1];
    const char *password_hash; /* log-in only; NULL: none */
} user;

extern const char *const user_roles[];
/* The users table as admins see and change it: name, role and plan (by
 * code); the email is fixed. */
extern const row_spec user_row;
/* The columns of user_row an admin's body may carry (row_from_json). */
#define USER_ADMIN_WRITABLE "name, role, plan"

/**
 * Inserts u (its id and timestamps are filled in here) with a password hash
 * (may be NULL). ERR_CONFLICT with field "email" when the email is taken.
 */
int user_store_insert(db_conn *c, user *u, const char *password_hash, error *err);

/**
 * Finds a user for log-in by email (case-insensitive), with the stored
 * password hash, text in a. ERR_NOT_FOUND when there is no such user.
 */
int user_store_find_login(db_conn *c, arena *a, const char *email, user *u, error *err);

/**
 * Replaces the user's password hash with new_hash if it is still old_hash
 * (a rehash never overwrites a password changed meanwhile); *replaced says
 * whether it did.
 */
int user_store_replace_password_hash(db_conn *c, const char *user_id, const char *old_hash,
                                     const char *new_hash, bool *replaced, error *err);

/** Users for admins, newest first, optional email substring filter, up to limit, in a. */
int user_store_admin_list(db_conn *c, arena *a, const char *email_like, const char *cursor,
                          int limit, user **out, size_t *n, error *err);
/** One user as admins see it; ERR_NOT_FOUND when absent. */
int user_store_admin_get(db_conn *c, arena *a, const char *id, user *out, error *err);
/** How many admins there are besides the user with this id. */
int user_store_admin_count_others(db_conn *c, const char *id, int64_t *n, error *err);
/** Writes u's name, role, plan_id and updated_at; ERR_NOT_FOUND when absent. */
int user_store_admin_update(db_conn *c, const user *u, error *err);

#endif
