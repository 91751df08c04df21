-- GET /api/v1/personas: the first page of 20, no filters.
-- What the server runs per request (bench/run.sh checks it against
-- pg_stat_statements): the auth lookup on SQLite (session_store_lookup), then
-- persona_store_list's unfiltered statement (Q_LIST_ALL) (the summary: the
-- length and preview the database keeps beside the instruction, migration
-- 0011, and not the instruction itself).
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
SELECT p.id, p.type, p.owner_id, p.visibility, p.required_plan, p.name, p.description,
       p.system_instruction_length, p.system_instruction_preview, p.temperature, p.top_p,
       p.top_k, p.language, p.voice, p.is_official, p.version, p.created_at, p.updated_at,
       p.archived_at, pl.rank AS required_rank
  FROM personas p JOIN plans pl ON pl.code = p.required_plan
 WHERE (p.type = 'SYSTEM' OR p.owner_id = :user_id OR p.visibility = 'PUBLIC')
   AND p.archived_at IS NULL
   AND p.id < :max_uuid ORDER BY p.id DESC LIMIT :limit;
