/*
 * diag: two built-in job kinds for checking a deployment and for the
 * queue's own tests. "noop" completes at once. "sleep" (payload {"ms": N},
 * 0 to 3600000) waits N ms, then completes, writing nothing else; it stops
 * early, for a retry, when its job is taken back. Its lease is 2 s, so a
 * worker killed while sleeping loses the job quickly and visibly.
 */
#ifndef PS_JOBS_DIAG_H
#define PS_JOBS_DIAG_H

/** Registers "noop" and "sleep". */
void job_diag_register(void);

#endif
