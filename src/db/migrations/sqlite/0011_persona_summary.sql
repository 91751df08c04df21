-- The persona list is a summary (issue 18, decision 70): each item carries
-- its instruction's length in characters and its first 160 characters
-- (PERSONA_PREVIEW_CHARS) instead of the text. SQLite cannot add a STORED
-- generated column to a table, so these are VIRTUAL: computed when read,
-- from a text that is in the same file and never compressed, which costs
-- little (PostgreSQL stores them; see its 0011).
ALTER TABLE personas ADD COLUMN system_instruction_length INTEGER
    GENERATED ALWAYS AS (length(system_instruction)) VIRTUAL;
ALTER TABLE personas ADD COLUMN system_instruction_preview TEXT
    GENERATED ALWAYS AS (substr(system_instruction, 1, 160)) VIRTUAL;
