/*
 * analytics_import: private to services/analytics_import.c, and the seam
 * fuzz/ drives. The import is two halves: reading the CSV into checked DAY
 * rows (pure: no database, no clock but today's date), then writing them in
 * one transaction. analytics_service_import_csv (analytics_service.h) runs
 * both; analytics_import__parse is the first alone.
 */
#ifndef PS_SERVICES_ANALYTICS_IMPORT_H
#define PS_SERVICES_ANALYTICS_IMPORT_H

#include "services/analytics_service.h"

/* One good row of the file. */
struct analytics_import__row {
    analytics_row r;
    int64_t day;
    size_t line;
};

typedef struct analytics_import__rows {
    const struct analytics_import__row *rows; /* in date order, one a day (arena) */
    size_t n;
    bool reach; /* the file has both impressions and their click-through rate */
} analytics_import__rows;

/**
 * Reads data[0..len) as a Studio export by date into *rows_r and the report
 * (everything in a), with user_id and channel_id stamped on every row. The
 * errors of analytics_service_import_csv but ERR_NOT_FOUND; on an error
 * *rows_r is empty and the report filled as far as it got.
 */
int analytics_import__parse(arena *a, const char *user_id, const char *channel_id, const char *data,
                            size_t len, analytics_import_report *out,
                            analytics_import__rows *rows_r, error *err);

#endif
