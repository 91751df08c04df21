-- GET /api/v1/projects?limit=20: the first page of 20.
-- The auth lookup on SQLite (session_store_lookup), then project_store_list: with no
-- status, channel or persona filter it runs Q_LIST_ALL, and no cursor binds
-- the greatest UUID.
\if :ready = 0
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
  FROM projects
 WHERE user_id = :user_id AND id < 'ffffffff-ffff-ffff-ffff-ffffffffffff'
 ORDER BY id DESC LIMIT :limit;
