#include "services/maintenance.h"

#include "base/log.h"
#include "base/timeutil.h"
#include "domain/audit_store.h"
#include "domain/job_store.h"
#include "domain/session_store.h"
#include "jobs/queue.h"
#include "jobs/worker.h"
#include "services/audit.h"

#include <string.h>

/* One store prune per transaction until a batch comes back short. */
typedef int (*prune_fn)(services *s, db_conn *c, int64_t now, int64_t *deleted, error *err);

static int maintenance__jobs(services *s, db_conn *c, int64_t now, int64_t *deleted, error *err)
{
    (void)s;
    return job_store_prune_done(c, now - MAINTENANCE_JOB_RETENTION, MAINTENANCE_BATCH, deleted,
                                err);
}

static int maintenance__sessions(services *s, db_conn *c, int64_t now, int64_t *deleted, error *err)
{
    return session_store_prune_expired(c, now, now - s->session_idle_usec, MAINTENANCE_BATCH,
                                       deleted, err);
}

static int maintenance__audit(services *s, db_conn *c, int64_t now, int64_t *deleted, error *err)
{
    return audit_store_prune(c, now - audit_retention_usec(s->audit_retention_days),
                             MAINTENANCE_BATCH, deleted, err);
}

/* One batch of a prune, the body of its own write transaction. */
typedef struct maintenance__batch {
    services *s;
    int64_t now;
    prune_fn fn;
    int64_t n; /* rows deleted */
} maintenance__batch;

static int maintenance__batch_body(db_conn *c, void *arg, error *err)
{
    maintenance__batch *b = arg;
    b->n = 0;
    return b->fn(b->s, c, b->now, &b->n, err);
}

static int maintenance__drain(services *s, db_conn *c, int64_t now, prune_fn fn, int64_t *total,
                              error *err)
{
    for (;;) {
        maintenance__batch b = {s, now, fn, 0};
        if (db_tx(c, maintenance__batch_body, &b, err) != 0)
            return -1;
        int64_t n = b.n;
        *total += n;
        if (n < MAINTENANCE_BATCH)
            return 0;
    }
}

int maintenance_prune(services *s, db_conn *c, int64_t now, maintenance_report *out, error *err)
{
    memset(out, 0, sizeof(*out));
    if (maintenance__drain(s, c, now, maintenance__jobs, &out->jobs, err) != 0 ||
        maintenance__drain(s, c, now, maintenance__sessions, &out->sessions, err) != 0 ||
        maintenance__drain(s, c, now, maintenance__audit, &out->audit_events, err) != 0)
        return -1;
    return 0;
}

static void maintenance__job(db_conn *c, const job *j, job_result *out, void *ctx)
{
    memset(out, 0, sizeof(*out));
    maintenance_report rep;
    if (maintenance_prune(ctx, c, time_now_usec(), &rep, &out->err) != 0) {
        out->outcome = JOB_OUTCOME_RETRY;
        return;
    }
    /* The deletions are committed; completing the job is its own step. A
     * lost completion only means the next run finds less to do. */
    job_complete_alone(c, j, out);
    if (out->outcome != JOB_OUTCOME_DONE)
        return;
    if (rep.jobs > 0 || rep.sessions > 0 || rep.audit_events > 0)
        log_info("maintenance: deleted %lld finished jobs, %lld expired sessions and %lld audit "
                 "events past retention",
                 (long long)rep.jobs, (long long)rep.sessions, (long long)rep.audit_events);
}

void maintenance_register_jobs(services *s)
{
    job_register(MAINTENANCE_JOB_PRUNE, maintenance__job, s, 300);
    job_schedule(MAINTENANCE_JOB_PRUNE, MAINTENANCE_PERIOD_SECONDS, "{}");
}
