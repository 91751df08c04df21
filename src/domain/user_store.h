/*
 * user_store: the users table: sign-up, log-in, and the admin side (role,
 * plan and name changes). Rows cross this API as plain structs, or as JSON
 * for admins; every function takes a borrowed connection so callers choose
 * the transaction. Emails are unique case-insensitively (a unique index on
 * lower(email)), and a duplicate comes back as ERR_CONFLICT.
 */
#ifndef PS_DOMAIN_USER_STORE_H
#define PS_DOMAIN_USER_STORE_H

#include "base/error.h"
#include "base/uuid.h"
#include "db/db.h"
#include "domain/limits.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct user {
    char id[UUID_STR_LEN + 1];
    char email[UTF8_BUF(USER_EMAIL_MAX)];
    char name[UTF8_BUF(USER_NAME_MAX)];
    char role[8]; /* "admin" | "user" */
    char plan_id[UUID_STR_LEN + 1];
    int64_t created_at;
} user;

/**
 * Inserts u (its id and created_at are filled in here) with a password hash
 * (may be NULL). ERR_CONFLICT with field "email" when the email is taken.
 */
int user_store_insert(db_conn *c, user *u, const char *password_hash, error *err);

/**
 * Finds a user for log-in by email (case-insensitive): fills u and the stored
 * password hash (hash_n bytes). ERR_NOT_FOUND when there is no such user.
 */
int user_store_find_login(db_conn *c, const char *email, user *u, char *hash, size_t hash_n,
                          error *err);

/**
 * Replaces the user's password hash with new_hash if it is still old_hash
 * (a rehash never overwrites a password changed meanwhile); *replaced says
 * whether it did.
 */
int user_store_replace_password_hash(db_conn *c, const char *user_id, const char *old_hash,
                                     const char *new_hash, bool *replaced, error *err);

/** Users for admins, newest first, optional email substring filter; JSON array. */
int user_store_admin_list(db_conn *c, const char *email_like, const char *cursor, int limit,
                          json_t **out, error *err);
/** One user as JSON, as admins see it; ERR_NOT_FOUND when absent. */
int user_store_admin_get(db_conn *c, const char *id, json_t **out, error *err);
/** Changes role and/or plan (by code) and/or name; refuses to demote the last admin. */
int user_store_admin_update(db_conn *c, const char *id, json_t *in, error *err);

#endif
