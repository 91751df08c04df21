-- The auth cache's invalidation (issue 18, decision 2; services/auth_cache.h).
-- Every change that can revoke a credential or change what it resolves to
-- NOTIFYs 'pstudio_auth' from a trigger, so every path that writes it (the
-- API, the admin CLI, the maintenance prune, an operator's SQL) is covered.
-- NOTIFY is transactional: listeners hear it when the change commits, and
-- identical payloads of one transaction arrive once. Payloads:
--   u:<user id>  drop that user's cached sessions and keys
--   p:<plan id>  drop those of the plan's users
--   *            drop everything
CREATE FUNCTION pstudio_auth_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_LEVEL = 'STATEMENT' THEN
        PERFORM pg_notify('pstudio_auth', '*');
    ELSIF TG_TABLE_NAME = 'plans' THEN
        PERFORM pg_notify('pstudio_auth', 'p:' || OLD.id::text);
    ELSIF TG_TABLE_NAME = 'users' THEN
        PERFORM pg_notify('pstudio_auth', 'u:' || OLD.id::text);
    ELSE
        PERFORM pg_notify('pstudio_auth', 'u:' || OLD.user_id::text);
        IF TG_OP = 'UPDATE' THEN
            IF NEW.user_id IS DISTINCT FROM OLD.user_id THEN
                PERFORM pg_notify('pstudio_auth', 'u:' || NEW.user_id::text);
            END IF;
        END IF;
    END IF;
    RETURN NULL;
END;
$$;

-- Sessions: logout, logout-all, expiry, the prune, a user's deletion (by
-- cascade). Touching last_seen_at changes nothing a cache trusts.
CREATE TRIGGER sessions_auth_notify
    AFTER DELETE OR UPDATE OF user_id, token_hash, csrf_token, expires_at ON sessions
    FOR EACH ROW EXECUTE FUNCTION pstudio_auth_notify();
-- API keys: revocation. Touching last_used_at changes nothing a cache trusts.
CREATE TRIGGER api_keys_auth_notify
    AFTER DELETE OR UPDATE OF user_id, token_hash, revoked_at ON api_keys
    FOR EACH ROW EXECUTE FUNCTION pstudio_auth_notify();
-- Users: what a principal holds (email, role, plan) and the password,
-- whose change must end what the old one opened.
CREATE TRIGGER users_auth_notify
    AFTER DELETE OR UPDATE OF id, email, role, plan_id, password_hash ON users
    FOR EACH ROW EXECUTE FUNCTION pstudio_auth_notify();
-- Plans: code, rank and limits are in every principal of the plan's users.
CREATE TRIGGER plans_auth_notify
    AFTER DELETE OR UPDATE ON plans
    FOR EACH ROW EXECUTE FUNCTION pstudio_auth_notify();
CREATE TRIGGER auth_truncate_notify_sessions AFTER TRUNCATE ON sessions
    FOR EACH STATEMENT EXECUTE FUNCTION pstudio_auth_notify();
CREATE TRIGGER auth_truncate_notify_api_keys AFTER TRUNCATE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION pstudio_auth_notify();
CREATE TRIGGER auth_truncate_notify_users AFTER TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION pstudio_auth_notify();
CREATE TRIGGER auth_truncate_notify_plans AFTER TRUNCATE ON plans
    FOR EACH STATEMENT EXECUTE FUNCTION pstudio_auth_notify();
