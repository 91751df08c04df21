/*
 * maintenance: keeps tables that grow with use from growing forever. One
 * periodic job, maintenance.prune, runs hourly (once across every process)
 * and deletes, in batches of MAINTENANCE_BATCH rows with a transaction each:
 *
 *   - jobs that finished ('done') more than MAINTENANCE_JOB_RETENTION ago;
 *     dead jobs stay until an admin requeues or deletes them;
 *   - sessions past their absolute expiry or idle for longer than the idle
 *     timeout (neither can be used again; see auth.c);
 *   - audit events older than the retention (PSTUDIO_AUDIT_RETENTION_DAYS,
 *     services.audit_retention_days): the only delete of that trail.
 *
 * Idempotency keys (script_service, hourly) and login rate-limit windows
 * (auth, on every attempt) and OAuth states (google_service) are pruned
 * where they are written.
 */
#ifndef PS_SERVICES_MAINTENANCE_H
#define PS_SERVICES_MAINTENANCE_H

#include "base/error.h"
#include "db/db.h"
#include "services/services.h"

#include <stdint.h>

#define MAINTENANCE_JOB_PRUNE      "maintenance.prune"
#define MAINTENANCE_JOB_RETENTION  (7LL * 24 * 3600 * 1000000) /* usec */
#define MAINTENANCE_BATCH          1000
#define MAINTENANCE_PERIOD_SECONDS 3600

typedef struct maintenance_report {
    int64_t jobs;         /* finished jobs deleted */
    int64_t sessions;     /* expired sessions deleted */
    int64_t audit_events; /* audit events past retention deleted */
} maintenance_report;

/** Runs one pass at now: every batch until none is left. */
int maintenance_prune(services *s, db_conn *c, int64_t now, maintenance_report *out, error *err);
/** Registers maintenance.prune and its hourly schedule; s must outlive the workers. */
void maintenance_register_jobs(services *s);

#endif
