-- GET /api/v1/channels: the first page (of 20; the caller has 10 channels).
-- The auth lookup (session_store_lookup), then channel_store_list (Q_LIST)
-- with no persona filter and no cursor.
-- pgbench cannot bind an SQL NULL, so unset filters are NULL literals.
SELECT s.id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at,
       u.id, u.email, u.role, p.id, p.code, p.rank, p.max_channels, p.max_projects_per_month
  FROM sessions s JOIN users u ON u.id = s.user_id JOIN plans p ON p.id = u.plan_id
 WHERE s.token_hash = :token_hash;
SELECT id, user_id, account_id, youtube_channel_id, persona_id, name, thumbnail, custom_url,
       subscriber_count, view_count, video_count, stats_updated_at, auto_optimize, created_at,
       updated_at, uploads_playlist_id,
       (SELECT a.status FROM accounts a WHERE a.id = channels.account_id) AS account_status
  FROM channels
 WHERE user_id = :user_id AND (NULL::uuid IS NULL OR persona_id = NULL::uuid)
   AND (NULL::uuid IS NULL OR id < NULL::uuid)
 ORDER BY id DESC LIMIT :limit;
