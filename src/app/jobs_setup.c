#include "app/app.h"
#include "jobs/diag.h"
#include "services/analytics_service.h"
#include "services/google_service.h"
#include "services/maintenance.h"
#include "services/media_service.h"
#include "services/optimizer_service.h"
#include "services/performance_service.h"
#include "services/publish_service.h"
#include "services/script_service.h"

/* Every job kind's handler is registered here, once, before workers start;
 * `serve` and `worker` both call this. One line per module. */
void app_register_jobs(services *s)
{
    (void)s;
    job_diag_register();                /* noop, sleep: deployment checks and the queue's tests */
    google_service_register_jobs(s);    /* YouTube stats (daily and on demand), queued imports */
    analytics_service_register_jobs(s); /* YouTube Analytics: daily per channel, backfills */
    analytics_reach_register_jobs(s);   /* YouTube Reporting: impressions and CTR per channel */
    optimizer_service_register_jobs(s); /* daily per channel in auto mode, after analytics */
    script_service_register_jobs(s);    /* script generation, scene rewrites, idempotency purge */
    media_service_register_jobs(s);   /* scene narration; hourly sweep of deleted projects' files */
    maintenance_register_jobs(s);     /* hourly: finished jobs after 7 days, expired sessions */
    performance_register_jobs();      /* every minute: the dirty dates' persona roll-ups */
    publish_service_register_jobs(s); /* resumable uploads of finished videos to YouTube */
}
