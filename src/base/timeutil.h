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

/*
 * Calendar days, for reports by date (channel analytics): a day is an
 * int64 count of days since 1970-01-01, its text "YYYY-MM-DD".
 */
#define TIME_DAY_STR_LEN 10

/** The day (UTC) that usec falls in. */
int64_t time_day_of(int64_t usec);
/** Parses exactly "YYYY-MM-DD" naming a real calendar day (years 1970-9999); false otherwise. */
bool time_day_parse(const char *s, int64_t *day);
/** Formats day as "YYYY-MM-DD" into out (TIME_DAY_STR_LEN + 1 bytes). */
void time_day_format(int64_t day, char out[TIME_DAY_STR_LEN + 1]);
/** The Monday of day's ISO week (ISO weeks run Monday to Sunday). */
int64_t time_day_monday(int64_t day);
/**
 * The next midnight in the US Pacific time zone (PST/PDT, by the US rules
 * since 2007) after usec: when Google resets the daily API quotas.
 */
int64_t time_next_pacific_midnight(int64_t usec);

#endif
