-- GET /api/v1/projects?limit=20: the first page of 20.
-- The auth lookup (session_store_lookup), then project_store_list: with no
-- status, channel or persona filter it runs Q_LIST_ALL, and no cursor binds
-- the greatest UUID.
SELECT s.id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at,
       u.id, u.email, u.role, p.id, p.code, p.rank, p.max_channels, p.max_projects_per_month
  FROM sessions s JOIN users u ON u.id = s.user_id JOIN plans p ON p.id = u.plan_id
 WHERE s.token_hash = :token_hash;
SELECT id, user_id, channel_id, persona_id, persona_version, topic, status, title, description,
       tags, error, created_at, updated_at, generation
  FROM projects
 WHERE user_id = :user_id AND id < 'ffffffff-ffff-ffff-ffff-ffffffffffff'
 ORDER BY id DESC LIMIT :limit;
