-- Retention (decision 36): the hourly maintenance.prune job deletes finished
-- jobs 7 days after they finish, a batch at a time; this index finds them
-- without reading the queue whole. (Expired sessions are pruned by the same
-- job with a plain scan: an index on last_seen_at would cost every request
-- that touches a session.)
CREATE INDEX jobs_done_finished_at_idx ON jobs (finished_at) WHERE status = 'done';
