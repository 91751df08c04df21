-- GET /api/v1/channels: the first page (of 20; the caller has 10 channels).
-- The auth lookup on SQLite (session_store_lookup), then channel_store_list (Q_LIST)
-- with no persona filter and no cursor.
-- pgbench cannot bind an SQL NULL, so unset filters are NULL literals.
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
SELECT id, youtube_channel_id, name, thumbnail, custom_url, uploads_playlist_id, persona_id,
       auto_optimize, subscriber_count, view_count, video_count, stats_updated_at, account_id,
       (SELECT a.status FROM accounts a WHERE a.id = channels.account_id) AS account_status,
       created_at, updated_at, user_id
  FROM channels
 WHERE user_id = :user_id AND (NULL::uuid IS NULL OR persona_id = NULL::uuid)
   AND (NULL::uuid IS NULL OR id < NULL::uuid)
 ORDER BY id DESC LIMIT :limit;
