-- The optimization loop (issue 13, decisions 85-88). Per channel: how the
-- optimizer may act (optimization_mode; the legacy auto_optimize boolean is
-- kept equal to optimization_mode = 'auto' by the store, decision 85), the
-- objective it maximises, the pause a revert sets, and what its last run
-- decided or why it waited.
ALTER TABLE channels ADD COLUMN optimization_mode TEXT NOT NULL DEFAULT 'suggest'
    CHECK (optimization_mode IN ('off', 'suggest', 'auto'));
ALTER TABLE channels ADD COLUMN objective TEXT NOT NULL DEFAULT 'watch_minutes_per_impression'
    CHECK (objective IN ('watch_minutes_per_impression', 'views_per_day', 'average_view_percentage',
                         'subscribers_net'));
ALTER TABLE channels ADD COLUMN optimizer_paused_at TEXT;
ALTER TABLE channels ADD COLUMN optimizer_status TEXT
    CHECK (optimizer_status IS NULL OR optimizer_status IN ('waiting', 'stayed', 'switched',
                                                            'explored', 'returned', 'paused'));
ALTER TABLE channels ADD COLUMN optimizer_why TEXT
    CHECK (optimizer_why IS NULL OR length(optimizer_why) <= 300);
ALTER TABLE channels ADD COLUMN optimizer_checked_at TEXT;
UPDATE channels SET optimization_mode = 'auto' WHERE auto_optimize = 1;

-- A suggestion: the persona the optimizer proposes for a channel, against
-- the one it had, with the evidence behind it. proposed_days and
-- current_days (the two personas' channel-days on the channel) are the
-- evidence's fingerprint: a dismissal holds until either grew materially
-- (decision 87).
CREATE TABLE optimizer_suggestions (
    id                 TEXT PRIMARY KEY CHECK (length(id) = 36),
    channel_id         TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id            TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    persona_id         TEXT NOT NULL REFERENCES personas (id) ON DELETE CASCADE,
    current_persona_id TEXT REFERENCES personas (id) ON DELETE SET NULL,
    objective          TEXT NOT NULL,
    p_beats_current    REAL NOT NULL CHECK (p_beats_current >= 0 AND p_beats_current <= 1),
    uplift             REAL NOT NULL,
    proposed_days      INTEGER NOT NULL CHECK (proposed_days >= 0),
    current_days       INTEGER NOT NULL CHECK (current_days >= 0),
    evidence           TEXT NOT NULL CHECK (json_valid(evidence)),
    state              TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'accepted', 'dismissed')),
    created_at         TEXT NOT NULL,
    decided_at         TEXT
);
CREATE INDEX optimizer_suggestions_channel_id_created_at_idx
    ON optimizer_suggestions (channel_id, created_at);
CREATE INDEX optimizer_suggestions_persona_id_idx ON optimizer_suggestions (persona_id);

-- An optimizer's switch carries its evidence; an accepted suggestion's
-- manual switch names the suggestion.
ALTER TABLE channel_persona_assignments ADD COLUMN evidence TEXT
    CHECK (evidence IS NULL OR json_valid(evidence));
ALTER TABLE channel_persona_assignments ADD COLUMN suggestion_id TEXT
    REFERENCES optimizer_suggestions (id) ON DELETE SET NULL;
CREATE INDEX channel_persona_assignments_suggestion_id_idx
    ON channel_persona_assignments (suggestion_id);
