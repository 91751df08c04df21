-- Scene narration (issue 14, decisions 89-91). A scene's audio is produced
-- by a media.audio job; audio_generation counts the requests for it (0: never
-- asked for), so a job for an older request (the narration was edited since)
-- writes nothing. audio_error is the reason of a FAILED status; audio_path
-- names the Ogg/Opus file in the project's media directory (WAV, subtitles
-- and timings sit beside it under the same stem). duration_ms already holds
-- the narration's length. Personas gain espeak-style rate (words per minute)
-- and pitch (0-100); NULL is the narrator's default.
ALTER TABLE scenes ADD COLUMN audio_generation INTEGER NOT NULL DEFAULT 0
    CHECK (audio_generation >= 0);
ALTER TABLE scenes ADD COLUMN audio_error TEXT
    CHECK (audio_error IS NULL OR length(audio_error) <= 1000);
ALTER TABLE personas ADD COLUMN voice_rate INTEGER
    CHECK (voice_rate IS NULL OR (voice_rate >= 80 AND voice_rate <= 450));
ALTER TABLE personas ADD COLUMN voice_pitch INTEGER
    CHECK (voice_pitch IS NULL OR (voice_pitch >= 0 AND voice_pitch <= 100));
