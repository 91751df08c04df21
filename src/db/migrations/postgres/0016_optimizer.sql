-- The optimization loop (issue 13, decisions 85-88). Per channel: how the
-- optimizer may act (optimization_mode; the legacy auto_optimize boolean is
-- kept equal to optimization_mode = 'auto' by the store, decision 85), the
-- objective it maximises, the pause a revert sets, and what its last run
-- decided or why it waited.
ALTER TABLE channels
    ADD COLUMN optimization_mode text NOT NULL DEFAULT 'suggest'
        CHECK (optimization_mode IN ('off', 'suggest', 'auto')),
    ADD COLUMN objective text NOT NULL DEFAULT 'watch_minutes_per_impression'
        CHECK (objective IN ('watch_minutes_per_impression', 'views_per_day', 'average_view_percentage',
                             'subscribers_net')),
    ADD COLUMN optimizer_paused_at timestamptz,
    ADD COLUMN optimizer_status text
        CHECK (optimizer_status IS NULL OR optimizer_status IN ('waiting', 'stayed', 'switched',
                                                                'explored', 'returned', 'paused')),
    ADD COLUMN optimizer_why text CHECK (optimizer_why IS NULL OR length(optimizer_why) <= 300),
    ADD COLUMN optimizer_checked_at timestamptz;
UPDATE channels SET optimization_mode = 'auto' WHERE auto_optimize;

-- A suggestion: the persona the optimizer proposes for a channel, against
-- the one it had, with the evidence behind it. proposed_days and
-- current_days (the two personas' channel-days on the channel) are the
-- evidence's fingerprint: a dismissal holds until either grew materially
-- (decision 87).
CREATE TABLE optimizer_suggestions (
    id                 uuid PRIMARY KEY,
    channel_id         uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    persona_id         uuid NOT NULL REFERENCES personas (id) ON DELETE CASCADE,
    current_persona_id uuid REFERENCES personas (id) ON DELETE SET NULL,
    objective          text NOT NULL,
    p_beats_current    double precision NOT NULL CHECK (p_beats_current >= 0 AND p_beats_current <= 1),
    uplift             double precision NOT NULL,
    proposed_days      integer NOT NULL CHECK (proposed_days >= 0),
    current_days       integer NOT NULL CHECK (current_days >= 0),
    evidence           jsonb NOT NULL,
    state              text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'accepted', 'dismissed')),
    created_at         timestamptz NOT NULL,
    decided_at         timestamptz
);
CREATE INDEX optimizer_suggestions_channel_id_created_at_idx
    ON optimizer_suggestions (channel_id, created_at);
CREATE INDEX optimizer_suggestions_persona_id_idx ON optimizer_suggestions (persona_id);

-- An optimizer's switch carries its evidence; an accepted suggestion's
-- manual switch names the suggestion.
ALTER TABLE channel_persona_assignments
    ADD COLUMN evidence jsonb,
    ADD COLUMN suggestion_id uuid REFERENCES optimizer_suggestions (id) ON DELETE SET NULL;
CREATE INDEX channel_persona_assignments_suggestion_id_idx
    ON channel_persona_assignments (suggestion_id);
