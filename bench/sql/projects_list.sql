-- GET /api/v1/projects?limit=20: the first page of 20.
-- The auth lookup (session_store_lookup), then project_store_list (Q_LIST)
-- with no status, channel or persona filter and no cursor.
-- pgbench cannot bind an SQL NULL, so unset filters are NULL literals.
SELECT s.id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at,
       u.id, u.email, u.role, p.id, p.code, p.rank, p.max_channels, p.max_projects_per_month
  FROM sessions s JOIN users u ON u.id = s.user_id JOIN plans p ON p.id = u.plan_id
 WHERE s.token_hash = :token_hash;
SELECT id, user_id, channel_id, persona_id, persona_version, topic, status, title, description,
       tags, error, created_at, updated_at
  FROM projects
 WHERE user_id = :user_id AND (NULL::text IS NULL OR status = NULL::text)
   AND (NULL::uuid IS NULL OR channel_id = NULL::uuid)
   AND (NULL::uuid IS NULL OR persona_id = NULL::uuid)
   AND (NULL::uuid IS NULL OR id < NULL::uuid)
 ORDER BY id DESC LIMIT :limit;
