-- The finished video (issue 14, decisions 100-104). The project's status
-- CHECK of the seed stays as it is; the render has columns of its own.
-- render_status: NULL (never rendered, or the scenes changed before any
-- video was made), 'rendering', 'rendered', 'failed', or 'stale' (a video
-- exists but the scenes changed since). render_generation counts render
-- requests, so a job for an older one writes nothing; render_progress is
-- per mille of the video's length. The options of the last request are kept.
-- rendered_at is when video.mp4 and thumbnail.png were last committed.
ALTER TABLE projects ADD COLUMN render_status text
    CHECK (render_status IS NULL OR render_status IN ('rendering', 'rendered', 'failed', 'stale'));
ALTER TABLE projects ADD COLUMN render_progress integer NOT NULL DEFAULT 0
    CHECK (render_progress BETWEEN 0 AND 1000);
ALTER TABLE projects ADD COLUMN render_error text
    CHECK (render_error IS NULL OR length(render_error) <= 1000);
ALTER TABLE projects ADD COLUMN render_generation bigint NOT NULL DEFAULT 0
    CHECK (render_generation >= 0);
ALTER TABLE projects ADD COLUMN render_aspect text
    CHECK (render_aspect IS NULL OR render_aspect IN ('16:9', '9:16'));
ALTER TABLE projects ADD COLUMN render_subtitles text
    CHECK (render_subtitles IS NULL OR render_subtitles IN ('burn', 'soft', 'none'));
ALTER TABLE projects ADD COLUMN render_music text
    CHECK (render_music IS NULL OR render_music IN ('none', 'ambient'));
ALTER TABLE projects ADD COLUMN render_duration_ms bigint
    CHECK (render_duration_ms IS NULL OR render_duration_ms >= 0);
ALTER TABLE projects ADD COLUMN rendered_at timestamptz;

-- A change to what a video shows (a scene added, removed, moved, its words,
-- picture or media replaced) makes the project's video stale, whichever
-- path made it: a render under way is overtaken (its generation moves on,
-- so it commits nothing) and a finished one is marked 'stale'.
CREATE FUNCTION scenes_render_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE projects SET render_generation = render_generation + 1, render_progress = 0,
        render_error = NULL,
        render_status = CASE WHEN rendered_at IS NOT NULL THEN 'stale' ELSE NULL END
        WHERE id = (CASE WHEN TG_OP = 'DELETE' THEN OLD.project_id ELSE NEW.project_id END)
          AND render_status IN ('rendering', 'rendered', 'failed');
    RETURN NULL;
END;
$$;
CREATE TRIGGER scenes_render_stale_insert AFTER INSERT ON scenes
    FOR EACH ROW EXECUTE FUNCTION scenes_render_stale();
CREATE TRIGGER scenes_render_stale_delete AFTER DELETE ON scenes
    FOR EACH ROW EXECUTE FUNCTION scenes_render_stale();
CREATE TRIGGER scenes_render_stale_update AFTER UPDATE ON scenes
    FOR EACH ROW WHEN (OLD.position IS DISTINCT FROM NEW.position
        OR OLD.narration IS DISTINCT FROM NEW.narration
        OR OLD.visual_description IS DISTINCT FROM NEW.visual_description
        OR OLD.audio_generation IS DISTINCT FROM NEW.audio_generation
        OR OLD.image_generation IS DISTINCT FROM NEW.image_generation
        OR OLD.audio_path IS DISTINCT FROM NEW.audio_path
        OR OLD.image_path IS DISTINCT FROM NEW.image_path)
    EXECUTE FUNCTION scenes_render_stale();
