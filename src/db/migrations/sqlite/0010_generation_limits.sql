-- Generations per month (decision 43): every script generation and scene
-- rewrite a user asks for counts against their plan's
-- max_generations_per_month (NULL: unlimited). The starter plans get room
-- for about two and a half generations per project they may make.
ALTER TABLE plans ADD COLUMN max_generations_per_month INTEGER
    CHECK (max_generations_per_month IS NULL OR max_generations_per_month >= 0);
UPDATE plans SET max_generations_per_month = 50   WHERE code = 'free';
UPDATE plans SET max_generations_per_month = 500  WHERE code = 'creator';
UPDATE plans SET max_generations_per_month = 5000 WHERE code = 'pro';

-- One counter per user and calendar month (UTC), raised in the transaction
-- that queues the work, so the check and the count cannot come apart. It is
-- a ledger: deleting a project gives nothing back (the model was paid).
CREATE TABLE generation_counts (
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    month_start  TEXT NOT NULL,
    used         INTEGER NOT NULL CHECK (used >= 0),
    PRIMARY KEY (user_id, month_start)
);
