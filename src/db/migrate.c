#include "db/migrate.h"

#include "base/log.h"
#include "base/timeutil.h"
#include "db/db_driver.h"

#include <stdio.h>
#include <string.h>

static db_sql Q_CREATE_TABLE =
    DB_SQL2("CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)");
static db_sql Q_CURRENT = DB_SQL("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
static db_sql Q_APPLIED = DB_SQL("SELECT COUNT(*) FROM schema_migrations WHERE version = $1");
static db_sql Q_RECORD =
    DB_SQL("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)");

int migrate_latest(db_engine engine)
{
    int latest = 0;
    for (int i = 0; i < migrations_count; i++)
        if (migrations_all[i].engine == engine && migrations_all[i].version > latest)
            latest = migrations_all[i].version;
    return latest;
}

static int migrate__current_on(db_conn *c, int *version, db_error *err)
{
    db_stmt *s = db_prepare(c, &Q_CREATE_TABLE, err);
    if (s == NULL || db_exec(s, err) != 0)
        return DB_ERR;
    db_reset(s);
    s = db_prepare(c, &Q_CURRENT, err);
    if (s == NULL)
        return DB_ERR;
    int rc = db_step(s, err);
    if (rc == DB_ROW)
        *version = (int)db_col_int64(s, 0);
    db_reset(s);
    return rc == DB_ROW ? 0 : DB_ERR;
}

int migrate_current(db *d, int *version, db_error *err)
{
    db_conn *c = db_acquire(d);
    int rc = migrate__current_on(c, version, err);
    db_release(c);
    return rc;
}

static int migrate__refuse_newer(db_engine engine, int current, db_error *err)
{
    return db_driver_set_error(
        err, DB_FAULT_SCHEMA,
        "the database schema is at version %d but this pstudio binary only knows "
        "up to version %d; upgrade pstudio (the database was left untouched)",
        current, migrate_latest(engine));
}

/* 1 when version is recorded, 0 when not, DB_ERR on failure. */
static int migrate__is_applied(db_conn *c, int version, db_error *err)
{
    db_stmt *q = db_prepare(c, &Q_APPLIED, err);
    if (q == NULL)
        return DB_ERR;
    db_bind_int64(q, 1, version);
    int step = db_step(q, err);
    int64_t n = step == DB_ROW ? db_col_int64(q, 0) : -1;
    db_reset(q);
    return n < 0 ? DB_ERR : n > 0;
}

/* How many of this engine's known steps the database lacks. */
static int migrate__missing(db_conn *c, db_engine engine, db_error *err)
{
    int missing = 0;
    for (int i = 0; i < migrations_count; i++) {
        if (migrations_all[i].engine != engine)
            continue;
        int a = migrate__is_applied(c, migrations_all[i].version, err);
        if (a < 0)
            return DB_ERR;
        missing += a == 0;
    }
    return missing;
}

static int migrate__step(db_conn *c, const migration *m, db_error *err)
{
    /* PostgreSQL runs DDL transactionally; so does SQLite. The version row is
     * written in the same transaction, so a step is either wholly applied and
     * recorded, or neither. Concurrent migrators serialize on the write lock
     * (BEGIN IMMEDIATE) or, on PostgreSQL, on the advisory lock below. */
    if (db_begin_write(c, err) != 0)
        return DB_ERR;
    if (db_conn_engine(c) == DB_ENGINE_POSTGRES &&
        db_exec_script(c, "SELECT pg_advisory_xact_lock(7283104)", err) != 0)
        goto fail;
    int current = 0;
    if (migrate__current_on(c, &current, err) != 0)
        goto fail;
    int already = migrate__is_applied(c, m->version, err);
    if (already < 0)
        goto fail;
    if (already > 0) { /* someone else applied it meanwhile */
        db_rollback(c);
        return 0;
    }
    if (db_exec_script(c, m->sql, err) != 0) {
        char inner[sizeof(err->message)];
        memcpy(inner, err->message, sizeof(inner));
        db_driver_set_error(err, err->fault, "migration %s failed: %.400s", m->name, inner);
        goto fail;
    }
    db_stmt *s = db_prepare(c, &Q_RECORD, err);
    if (s == NULL)
        goto fail;
    db_bind_int64(s, 1, m->version);
    db_bind_text(s, 2, m->name);
    db_bind_time(s, 3, time_now_usec());
    int rc = db_exec(s, err);
    db_reset(s);
    if (rc != 0 || db_commit(c, err) != 0)
        goto fail;
    log_info("applied migration %s", m->name);
    return 1;
fail:
    db_rollback(c);
    return DB_ERR;
}

int migrate_apply(db *d, int *applied, db_error *err)
{
    return migrate_apply_to(d, migrate_latest(db_engine_of(d)), applied, err);
}

int migrate_apply_to(db *d, int target, int *applied, db_error *err)
{
    db_engine engine = db_engine_of(d);
    int latest = migrate_latest(engine);
    int current = 0;
    *applied = 0;
    if (migrate_current(d, &current, err) != 0)
        return DB_ERR;
    if (current > latest)
        return migrate__refuse_newer(engine, current, err);
    /* Every known version not yet recorded is applied in order, not only
     * those above the highest: a step merged after a later one was applied
     * somewhere is still picked up there. migrate__step skips recorded ones. */
    db_conn *c = db_acquire(d);
    int rc = 0;
    for (int v = 1; v <= target && v <= latest && rc == 0; v++) {
        for (int i = 0; i < migrations_count; i++) {
            const migration *m = &migrations_all[i];
            if (m->engine != engine || m->version != v)
                continue;
            int a = migrate__is_applied(c, v, err);
            if (a != 0) { /* applied, or an error */
                rc = a < 0 ? DB_ERR : 0;
                continue;
            }
            int r = migrate__step(c, m, err);
            if (r < 0)
                rc = DB_ERR;
            else
                *applied += r;
        }
    }
    db_release(c);
    return rc;
}

int migrate_check_current(db *d, db_error *err)
{
    db_engine engine = db_engine_of(d);
    int latest = migrate_latest(engine);
    int current = 0;
    if (migrate_current(d, &current, err) != 0)
        return DB_ERR;
    if (current > latest)
        return migrate__refuse_newer(engine, current, err);
    db_conn *c = db_acquire(d);
    int missing = migrate__missing(c, engine, err);
    db_release(c);
    if (missing < 0)
        return DB_ERR;
    if (missing > 0)
        return db_driver_set_error(
            err, DB_FAULT_SCHEMA,
            "the database schema lacks %d step%s of version %d; run 'pstudio "
            "migrate' first",
            missing, missing == 1 ? "" : "s", latest);
    return 0;
}
