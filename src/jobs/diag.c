#include "jobs/diag.h"

#include "base/timeutil.h"
#include "jobs/queue.h"

#include <time.h>

#define DIAG__SLEEP_LEASE_S 2
#define DIAG__SLEEP_STEP_MS 20
#define DIAG__SLEEP_MAX_MS  3600000

static void diag__noop(db_conn *c, const job *j, job_result *out, void *ctx)
{
    job_complete_alone(c, j, out);
}

static void diag__sleep(db_conn *c, const job *j, job_result *out, void *ctx)
{
    json_t *ms = json_object_get(j->payload, "ms");
    if (!json_is_integer(ms) || json_integer_value(ms) < 0 ||
        json_integer_value(ms) > DIAG__SLEEP_MAX_MS) {
        out->outcome = JOB_OUTCOME_FAIL;
        error_set(&out->err, ERR_INVALID, "ms",
                  "a sleep job's payload needs \"ms\": a whole number from 0 to %d",
                  DIAG__SLEEP_MAX_MS);
        return;
    }
    int64_t until = time_mono_usec() + (int64_t)json_integer_value(ms) * 1000;
    while (time_mono_usec() < until) {
        if (job_cancelled()) {
            out->outcome = JOB_OUTCOME_RETRY;
            error_set(&out->err, ERR_UNAVAILABLE, NULL,
                      "the sleep was interrupted: the worker gave the job back");
            return;
        }
        struct timespec ts = {0, DIAG__SLEEP_STEP_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    job_complete_alone(c, j, out);
}

void job_diag_register(void)
{
    job_register("noop", diag__noop, NULL, 30);
    job_register("sleep", diag__sleep, NULL, DIAG__SLEEP_LEASE_S);
}
