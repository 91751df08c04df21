-- A project keeps the controls of its generations (language, length,
-- instructions): a later /generate or scene rewrite without them reuses
-- these instead of falling back to the persona's language and the default
-- length. NULL means "not set": the persona's language, the default length,
-- no instructions. The service keeps target_scenes and target_seconds
-- exclusive, and so does the CHECK below.

ALTER TABLE projects ADD COLUMN language text CHECK (language IS NULL OR length(language) BETWEEN 2 AND 35);
ALTER TABLE projects ADD COLUMN target_scenes integer CHECK (target_scenes IS NULL OR target_scenes BETWEEN 1 AND 30);
ALTER TABLE projects ADD COLUMN target_seconds integer CHECK (target_seconds IS NULL OR target_seconds BETWEEN 15 AND 1800);
ALTER TABLE projects ADD COLUMN instructions text CHECK (instructions IS NULL OR length(instructions) BETWEEN 1 AND 2000);
ALTER TABLE projects ADD CONSTRAINT projects_one_length_target CHECK (target_scenes IS NULL OR target_seconds IS NULL);

-- Deleting a persona that records name (projects, usage logs, channel
-- assignments) archives it instead: the row and its history stay, so
-- projects keep persona_id and persona_version. An archived persona is
-- hidden from listings and cannot be used; only its owner (an admin, for a
-- SYSTEM one) still reads it. Unreferenced personas are still deleted, and
-- the foreign keys' ON DELETE rules are unchanged.
ALTER TABLE personas ADD COLUMN archived_at timestamptz;
-- The delete asks whether any assignment names the persona.
CREATE INDEX channel_persona_assignments_persona_id_idx ON channel_persona_assignments (persona_id);
