-- GET /api/v1/projects/{id}: one project with its scenes.
-- The auth lookup on SQLite (session_store_lookup), project_store_get (Q_GET), then
-- scene_store_list (Q_LIST). Each client reads one of the caller's projects,
-- picked once, as the load spreads over all of them.
\if :ready = 0
\set k :client_id % 100
SELECT id AS project_id FROM projects WHERE user_id = :user_id ORDER BY id LIMIT 1 OFFSET :k
\gset
SELECT 1 - COUNT(*) AS auth_lookup FROM schema_migrations WHERE name = '0012_auth_notify'
\gset
\set ready 1
\endif
-- The session lookup runs on SQLite only: on PostgreSQL the server answers
-- it from its auth cache (docs/decisions.md, 73). The engine is told once
-- per client by the cache's migration step, which only PostgreSQL records.
\if :auth_lookup = 1
SELECT s.id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at,
       u.id AS user_id, u.email AS email, (u.role = 'admin') AS is_admin, p.id AS plan_id,
       p.code AS plan_code, p.rank AS plan_rank, p.max_channels AS max_channels,
       p.max_projects_per_month AS max_projects_per_month,
       p.max_generations_per_month AS max_generations_per_month
  FROM sessions s JOIN users u ON u.id = s.user_id JOIN plans p ON p.id = u.plan_id
 WHERE s.token_hash = :token_hash;
\endif
SELECT id, topic, status, channel_id, persona_id, persona_version, title, description, tags,
       language, target_scenes, target_seconds, instructions, error, created_at, updated_at,
       user_id, generation
  FROM projects WHERE id = :project_id AND user_id = :user_id;
SELECT id, position, narration, visual_description, image_status, audio_status, duration_ms,
       created_at, updated_at, project_id, user_id
  FROM scenes WHERE project_id = :project_id AND user_id = :user_id ORDER BY position, id;
