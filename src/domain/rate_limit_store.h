/*
 * rate_limit_store: the rate_limits table, hit counters per bucket (an
 * account, an address) and time window, shared by every process on the
 * database.
 */
#ifndef PS_DOMAIN_RATE_LIMIT_STORE_H
#define PS_DOMAIN_RATE_LIMIT_STORE_H

#include "base/error.h"
#include "db/db.h"

#include <stdint.h>

/** Counts one hit in (bucket, window) and returns the count so far. */
int rate_limit_store_hit(db_conn *c, const char *bucket, int64_t window, int *hits, error *err);
/** Forgets windows older than `before`. */
int rate_limit_store_prune(db_conn *c, int64_t before, error *err);

#endif
