/*
 * analytics_internal: private to the analytics_service module's files:
 * services/analytics_service.c (the Analytics API's days, backfills, the
 * daily sweep) and services/analytics_reach.c (the Reporting API's reach),
 * which share how a job opens its channel and account and how a failure
 * decides what the job does next. Nothing else includes it.
 */
#ifndef PS_SERVICES_ANALYTICS_INTERNAL_H
#define PS_SERVICES_ANALYTICS_INTERNAL_H

#include "domain/account_store.h"
#include "jobs/queue.h"
#include "services/analytics_service.h"

#define ANALYTICS_TRIES 8 /* quota waits are long; give them room */

/**
 * The channel (the user's) and its Google account, ready to fetch with; 1
 * when the channel is no longer linked to one (nothing to fetch).
 */
int analytics_service__open(services *s, db_conn *c, arena *a, const char *user_id,
                            const char *channel_id, channel *ch, account *acc, google_err *ge);
/**
 * What a failed analytics job does next: wait for the quota window, give up
 * on an account that must reconnect or a channel that is gone (nothing to
 * retry), or back off. Rows already stored stay.
 */
void analytics_service__job_failed(db_conn *c, const job *j, const google_err *ge, job_result *out);
/** A job's channel_id, or NULL when the payload or the job's user is unusable. */
const char *analytics_service__payload_id(const job *j);

#endif
