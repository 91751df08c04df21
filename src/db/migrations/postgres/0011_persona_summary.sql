-- The persona list is a summary (issue 18, decision 70): each item carries
-- its instruction's length in characters and its first 160 characters
-- (PERSONA_PREVIEW_CHARS) instead of the text. Kept beside the text, made by
-- the database whenever the text is written, so the list never reads the
-- instruction: on PostgreSQL a ~5 KB instruction is stored compressed, and
-- reading it (or calling length() and substr() on it) decompresses it for
-- every row of every page.
ALTER TABLE personas
    ADD COLUMN system_instruction_length integer
        GENERATED ALWAYS AS (char_length(system_instruction)) STORED,
    ADD COLUMN system_instruction_preview text
        GENERATED ALWAYS AS (substr(system_instruction, 1, 160)) STORED;
