-- Indexes for the job queue. Workers claim with
--   WHERE status IN ('queued', 'running') AND (<runnable or lease expired>)
--   ORDER BY priority DESC, run_at LIMIT 1
-- so the claim index holds only live jobs, in claim order: done and dead
-- jobs (nearly every row, over time) cost it nothing, and a claim walks it
-- from the front and stops at the first runnable job. The admin list filters
-- by status, newest first. The old (status, run_at, priority) index served
-- neither query and is dropped.

DROP INDEX jobs_status_run_at_idx;
CREATE INDEX jobs_claim_idx ON jobs (priority DESC, run_at) WHERE status IN ('queued', 'running');
CREATE INDEX jobs_status_id_idx ON jobs (status, id);
