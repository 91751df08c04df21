/*
 * Time as int64 microseconds since the Unix epoch, UTC, everywhere in the
 * program. Text form is RFC 3339 with microseconds and a Z; both database
 * drivers store and return that form (see db.h).
 */
#ifndef PS_BASE_TIMEUTIL_H
#define PS_BASE_TIMEUTIL_H

#include <stdbool.h>
#include <stdint.h>

#define TIME_STR_LEN 27 /* "2026-11-25T14:29:18.123456Z" */

int64_t time_now_usec(void);
/** Monotonic clock in microseconds, for durations. */
int64_t time_mono_usec(void);
/** The first instant (usec) of the calendar month, UTC, that usec falls in. */
int64_t time_month_start(int64_t usec);
/** Formats usec as "YYYY-MM-DDTHH:MM:SS.ffffffZ" into out (TIME_STR_LEN + 1 bytes). */
void time_format(int64_t usec, char out[TIME_STR_LEN + 1]);
/**
 * Parses RFC 3339 / ISO 8601 date-times as both engines print them:
 * "2026-11-25T14:29:18Z", "...18.5+00:00", "2026-11-25 14:29:18.123+00".
 * Returns false on anything else.
 */
bool time_parse(const char *s, int64_t *usec);

#endif
