-- PATCH /api/v1/personas/{id} {"temperature": t, "change_reason": "bench"}:
-- a new version and its history row in one transaction.
-- The auth lookup on SQLite (session_store_lookup), then persona_service_update:
-- persona_store_get_writable, plan_store_rank_by_code (required_plan check,
-- which also gives the answer its rank), persona_store_update and
-- persona_store_history_insert; the answer is the row as written, so there
-- is no read-back. The read locks the row (FOR UPDATE OF p), as the
-- server's statement does, so concurrent writers without If-Match queue.
-- Each client owns one of the caller's 64 personas, so no two clients race
-- for a row. pgbench cannot make a UUID client-side, so the history row's id
-- comes from gen_random_uuid() where the server binds a UUIDv7; the snapshot
-- is a real one of about 6 KB, passed with -D like the other constants.
\if :ready = 0
\set k :client_id % 64
SELECT id AS persona_id FROM personas WHERE owner_id = :user_id ORDER BY id LIMIT 1 OFFSET :k
\gset
SELECT 1 - COUNT(*) AS auth_lookup FROM schema_migrations WHERE name = '0012_auth_notify'
\gset
\set ready 1
\endif
\set temp random(0, 200) / 100.0
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
BEGIN;
SELECT p.id, p.type, p.owner_id, p.visibility, p.required_plan, p.name, p.description,
       p.system_instruction, p.temperature, p.top_p, p.top_k, p.language, p.voice,
       p.is_official, p.version, p.created_at, p.updated_at, p.archived_at,
       pl.rank AS required_rank
  FROM personas p JOIN plans pl ON pl.code = p.required_plan
 WHERE p.id = :persona_id AND (p.type = 'SYSTEM' OR p.owner_id = :user_id) FOR UPDATE OF p
\gset
\set next :version + 1
SELECT rank FROM plans WHERE code = :required_plan;
UPDATE personas SET visibility = :visibility, required_plan = :required_plan, name = :name,
       description = :description, system_instruction = :system_instruction,
       temperature = :temp, top_p = :top_p, top_k = :top_k, language = :language,
       voice = :voice, is_official = :is_official, version = :next, updated_at = :now
 WHERE id = :persona_id AND version = :version AND (type = 'SYSTEM' OR owner_id = :user_id);
INSERT INTO persona_history (id, persona_id, version, snapshot, changed_by, change_reason,
                             created_at)
VALUES (gen_random_uuid(), :persona_id, :next, :snapshot, :user_id, :reason, :now);
COMMIT;
