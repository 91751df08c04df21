-- Scene images (issue 14, decisions 98-99). A scene's image is produced by a
-- media.image job, counted by image_generation like audio_generation (0:
-- never asked for), so a job for an older request (the visual description
-- was edited since) writes nothing. image_error is the reason of a FAILED
-- image_status; image_path (from 0001) names the landscape PNG in the
-- project's media directory, the portrait one sits beside it.
ALTER TABLE scenes ADD COLUMN image_generation integer NOT NULL DEFAULT 0
    CHECK (image_generation >= 0);
ALTER TABLE scenes ADD COLUMN image_error text
    CHECK (image_error IS NULL OR length(image_error) <= 1000);
