-- The finished video (issue 14, decisions 100-104). The project's status
-- CHECK of the seed stays as it is; the render has columns of its own.
-- render_status: NULL (never rendered, or the scenes changed before any
-- video was made), 'rendering', 'rendered', 'failed', or 'stale' (a video
-- exists but the scenes changed since). render_generation counts render
-- requests, so a job for an older one writes nothing; render_progress is
-- per mille of the video's length. The options of the last request are kept.
-- rendered_at is when video.mp4 and thumbnail.png were last committed.
ALTER TABLE projects ADD COLUMN render_status TEXT
    CHECK (render_status IS NULL OR render_status IN ('rendering', 'rendered', 'failed', 'stale'));
ALTER TABLE projects ADD COLUMN render_progress INTEGER NOT NULL DEFAULT 0
    CHECK (render_progress BETWEEN 0 AND 1000);
ALTER TABLE projects ADD COLUMN render_error TEXT
    CHECK (render_error IS NULL OR length(render_error) <= 1000);
ALTER TABLE projects ADD COLUMN render_generation INTEGER NOT NULL DEFAULT 0
    CHECK (render_generation >= 0);
ALTER TABLE projects ADD COLUMN render_aspect TEXT
    CHECK (render_aspect IS NULL OR render_aspect IN ('16:9', '9:16'));
ALTER TABLE projects ADD COLUMN render_subtitles TEXT
    CHECK (render_subtitles IS NULL OR render_subtitles IN ('burn', 'soft', 'none'));
ALTER TABLE projects ADD COLUMN render_music TEXT
    CHECK (render_music IS NULL OR render_music IN ('none', 'ambient'));
ALTER TABLE projects ADD COLUMN render_duration_ms INTEGER
    CHECK (render_duration_ms IS NULL OR render_duration_ms >= 0);
ALTER TABLE projects ADD COLUMN rendered_at TEXT;

-- A change to what a video shows (a scene added, removed, moved, its words,
-- picture or media replaced) makes the project's video stale, whichever
-- path made it: a render under way is overtaken (its generation moves on,
-- so it commits nothing) and a finished one is marked 'stale'.
CREATE TRIGGER scenes_render_stale_insert AFTER INSERT ON scenes
BEGIN
    UPDATE projects SET render_generation = render_generation + 1, render_progress = 0,
        render_error = NULL,
        render_status = CASE WHEN rendered_at IS NOT NULL THEN 'stale' ELSE NULL END
        WHERE id = NEW.project_id AND render_status IN ('rendering', 'rendered', 'failed');
END;
CREATE TRIGGER scenes_render_stale_delete AFTER DELETE ON scenes
BEGIN
    UPDATE projects SET render_generation = render_generation + 1, render_progress = 0,
        render_error = NULL,
        render_status = CASE WHEN rendered_at IS NOT NULL THEN 'stale' ELSE NULL END
        WHERE id = OLD.project_id AND render_status IN ('rendering', 'rendered', 'failed');
END;
CREATE TRIGGER scenes_render_stale_update AFTER UPDATE ON scenes
    WHEN OLD.position IS NOT NEW.position OR OLD.narration IS NOT NEW.narration
      OR OLD.visual_description IS NOT NEW.visual_description
      OR OLD.audio_generation IS NOT NEW.audio_generation
      OR OLD.image_generation IS NOT NEW.image_generation
      OR OLD.audio_path IS NOT NEW.audio_path OR OLD.image_path IS NOT NEW.image_path
BEGIN
    UPDATE projects SET render_generation = render_generation + 1, render_progress = 0,
        render_error = NULL,
        render_status = CASE WHEN rendered_at IS NOT NULL THEN 'stale' ELSE NULL END
        WHERE id = NEW.project_id AND render_status IN ('rendering', 'rendered', 'failed');
END;
