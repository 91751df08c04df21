/*
 * Schema conformance, the same on both engines: the seed's unique
 * constraints, cascade rules and indexes (shared/seed/personas-and-channels.md),
 * the CHECK constraints on enumerations and ranges, the column types, and the
 * migration bookkeeping.
 */
#include "testlib.h"

#include "base/timeutil.h"
#include "base/uuid.h"
#include "db/migrate.h"

#include <stdio.h>
#include <string.h>

static int setup(void **state)
{
    testdb *t = test_calloc(1, sizeof(*t));
    testdb_create(t);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    testdb *t = *state;
    testdb_destroy(t);
    test_free(t);
    return 0;
}

static int64_t count_where(testdb *t, const char *table, const char *col, const char *id)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s WHERE %s = '%s'", table, col, id);
    return testdb_scalar(t, sql);
}

static int64_t count_null(testdb *t, const char *table, const char *col, const char *id)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s WHERE id = '%s' AND %s IS NULL", table, id,
             col);
    return testdb_scalar(t, sql);
}

/* ---- unique constraints ------------------------------------------------ */

static void test_channels_reject_a_second_row_for_the_same_user_and_youtube_channel(void **state)
{
    testdb *t = *state;
    char u1[37], u2[37], c[37];
    fixture_user(t, "a@example.com", u1);
    fixture_user(t, "b@example.com", u2);
    fixture_channel(t, u1, "UC123", NULL, c);
    db_error de;
    char id[37];
    uuid_v7(id);
    int rc =
        testdb_execf(t, &de,
                     "INSERT INTO channels (id, user_id, youtube_channel_id, name, created_at, "
                     "updated_at) VALUES ($1, $2, 'UC123', 'Again', $3, $3)",
                     "sst", id, u1, time_now_usec());
    assert_int_equal(rc, DB_ERR);
    assert_int_equal(de.fault, DB_FAULT_UNIQUE);
    /* Another user may import the same YouTube channel. */
    fixture_channel(t, u2, "UC123", NULL, c);
    assert_int_equal(testdb_scalar(t, "SELECT COUNT(*) FROM channels"), 2);
}

static void test_persona_history_rejects_a_duplicate_version_of_one_persona(void **state)
{
    testdb *t = *state;
    char u[37], p[37], h[37];
    fixture_user(t, "a@example.com", u);
    fixture_persona(t, u, p);
    /* The fixture wrote version 1. */
    const char *sql = "INSERT INTO persona_history (id, persona_id, version, snapshot, changed_by, "
                      "change_reason, created_at) VALUES ($1, $2, $3, $4, $5, 'edit', $6)";
    db_error de;
    uuid_v7(h);
    assert_int_equal(testdb_execf(t, &de, sql, "ssisst", h, p, (int64_t)1, "{\"name\":\"B\"}", u,
                                  time_now_usec()),
                     DB_ERR);
    assert_int_equal(de.fault, DB_FAULT_UNIQUE);
    uuid_v7(h);
    assert_int_equal(testdb_execf(t, &de, sql, "ssisst", h, p, (int64_t)2, "{\"name\":\"B\"}", u,
                                  time_now_usec()),
                     0);
    /* The persona at the version its history reaches, as the app keeps it. */
    assert_int_equal(testdb_execf(t, &de, "UPDATE personas SET version = 2 WHERE id = $1", "s", p),
                     0);
}

static void test_channel_analytics_rejects_a_duplicate_channel_date_period(void **state)
{
    testdb *t = *state;
    char u[37], c[37], id[37];
    fixture_user(t, "a@example.com", u);
    fixture_channel(t, u, "UC1", NULL, c);
    const char *sql =
        "INSERT INTO channel_analytics (id, channel_id, user_id, date, period, views, "
        "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 10, $6, $6)";
    db_error de;
    uuid_v7(id);
    assert_int_equal(testdb_execf(t, &de, sql,
                                  "sssss"
                                  "t",
                                  id, c, u, "2026-11-02", "DAY", time_now_usec()),
                     0);
    uuid_v7(id);
    assert_int_equal(
        testdb_execf(t, &de, sql, "ssssst", id, c, u, "2026-11-02", "DAY", time_now_usec()),
        DB_ERR);
    assert_int_equal(de.fault, DB_FAULT_UNIQUE);
    /* The same date in the other period is a different row (2026-11-02 is a
     * Monday, so the row is the day's own week, as the checker wants it). */
    uuid_v7(id);
    assert_int_equal(
        testdb_execf(t, &de, sql, "ssssst", id, c, u, "2026-11-02", "WEEK", time_now_usec()), 0);
}

static void test_user_email_is_unique_regardless_of_case(void **state)
{
    testdb *t = *state;
    char u[37];
    fixture_user(t, "Ana@Example.com", u);
    db_error de;
    char id[37];
    uuid_v7(id);
    int rc = testdb_execf(t, &de,
                          "INSERT INTO users (id, email, name, plan_id, created_at, updated_at) "
                          "VALUES ($1, 'ana@example.COM', 'Ana', "
                          "(SELECT id FROM plans WHERE code = 'free'), $2, $2)",
                          "st", id, time_now_usec());
    assert_int_equal(rc, DB_ERR);
    assert_int_equal(de.fault, DB_FAULT_UNIQUE);
}

/* ---- cascade rules ------------------------------------------------------ */

static void test_deleting_a_user_deletes_their_channels(void **state)
{
    testdb *t = *state;
    char u1[37], u2[37], c1[37], c2[37], c3[37];
    fixture_user(t, "a@example.com", u1);
    fixture_user(t, "b@example.com", u2);
    fixture_channel(t, u1, "UC1", NULL, c1);
    fixture_channel(t, u1, "UC2", NULL, c2);
    fixture_channel(t, u2, "UC1", NULL, c3);
    db_error de;
    assert_int_equal(testdb_execf(t, &de, "DELETE FROM users WHERE id = $1", "s", u1), 0);
    assert_int_equal(count_where(t, "channels", "user_id", u1), 0);
    assert_int_equal(count_where(t, "channels", "id", c3), 1);
}

static void
test_deleting_a_persona_nulls_channels_and_projects_and_removes_its_history(void **state)
{
    testdb *t = *state;
    char u[37], p[37], keep[37], c[37], pr[37];
    fixture_user(t, "a@example.com", u);
    fixture_persona(t, u, p);
    fixture_persona(t, u, keep);
    fixture_channel(t, u, "UC1", p, c);
    fixture_project(t, u, c, p, pr);
    db_error de;
    /* Each persona has its version 1 in the history (the fixture's). */
    assert_int_equal(count_where(t, "persona_history", "persona_id", p), 1);
    assert_int_equal(testdb_execf(t, &de, "DELETE FROM personas WHERE id = $1", "s", p), 0);
    assert_int_equal(count_null(t, "channels", "persona_id", c), 1);
    assert_int_equal(count_null(t, "projects", "persona_id", pr), 1);
    assert_int_equal(count_where(t, "persona_history", "persona_id", p), 0);
    assert_int_equal(count_where(t, "persona_history", "persona_id", keep), 1);
    /* The channel and project themselves survive. */
    assert_int_equal(count_where(t, "channels", "id", c), 1);
    assert_int_equal(count_where(t, "projects", "id", pr), 1);
}

static void test_deleting_a_channel_nulls_its_projects_channel(void **state)
{
    testdb *t = *state;
    char u[37], c[37], pr[37];
    fixture_user(t, "a@example.com", u);
    fixture_channel(t, u, "UC1", NULL, c);
    fixture_project(t, u, c, NULL, pr);
    db_error de;
    assert_int_equal(testdb_execf(t, &de, "DELETE FROM channels WHERE id = $1", "s", c), 0);
    assert_int_equal(count_null(t, "projects", "channel_id", pr), 1);
}

static void test_deleting_a_project_deletes_its_scenes(void **state)
{
    testdb *t = *state;
    char u[37], pr[37], sc[37];
    fixture_user(t, "a@example.com", u);
    fixture_project(t, u, NULL, NULL, pr);
    db_error de;
    uuid_v7(sc);
    assert_int_equal(testdb_execf(t, &de,
                                  "INSERT INTO scenes (id, project_id, user_id, position, "
                                  "narration, created_at, updated_at) VALUES ($1, $2, $3, 0, "
                                  "'Once upon a time', $4, $4)",
                                  "ssst", sc, pr, u, time_now_usec()),
                     0);
    assert_int_equal(testdb_execf(t, &de, "DELETE FROM projects WHERE id = $1", "s", pr), 0);
    assert_int_equal(count_where(t, "scenes", "project_id", pr), 0);
}

static void test_a_foreign_key_to_a_missing_row_is_refused(void **state)
{
    testdb *t = *state;
    char id[37];
    uuid_v7(id);
    db_error de;
    int rc =
        testdb_execf(t, &de,
                     "INSERT INTO channels (id, user_id, youtube_channel_id, name, created_at, "
                     "updated_at) VALUES ($1, '01936f4e-0000-7000-8000-0000000000ff', 'UC', "
                     "'x', $2, $2)",
                     "st", id, time_now_usec());
    assert_int_equal(rc, DB_ERR);
    assert_int_equal(de.fault, DB_FAULT_FOREIGN_KEY);
}

/* ---- indexes ------------------------------------------------------------ */

/* Reads every index of table from the engine's catalogue as "col1,col2" and
 * reports whether one has exactly these leading columns. */
static bool has_index(testdb *t, const char *table, const char *cols)
{
    db_sql q = DB_SQL2("SELECT il.name, (SELECT group_concat(name, ',') FROM "
                       "(SELECT name FROM pragma_index_info(il.name) ORDER BY seqno)) "
                       "FROM pragma_index_list($1) il",
                       "SELECT i.indexrelid::regclass::text, "
                       "string_agg(a.attname, ',' ORDER BY k.ord) "
                       "FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
                       "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) "
                       "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum "
                       "WHERE c.relname = $1 GROUP BY i.indexrelid");
    db_conn *c = db_acquire(t->db);
    db_error de;
    db_stmt *s = db_prepare(c, &q, &de);
    if (s == NULL)
        fail_msg("%s", de.message);
    db_bind_text(s, 1, table);
    bool found = false;
    int rc;
    while ((rc = db_step(s, &de)) == DB_ROW) {
        const char *got = db_col_text(s, 1);
        if (got != NULL && strcmp(got, cols) == 0)
            found = true;
    }
    if (rc == DB_ERR)
        fail_msg("%s", de.message);
    db_reset(s);
    db_release(c);
    return found;
}

static void test_every_seed_index_exists_in_the_catalogue(void **state)
{
    testdb *t = *state;
    assert_true(has_index(t, "personas", "type,visibility,required_plan"));
    assert_true(has_index(t, "channels", "user_id"));
    assert_true(has_index(t, "channels", "persona_id"));
    assert_true(has_index(t, "projects", "channel_id"));
    assert_true(has_index(t, "projects", "persona_id"));
    assert_true(has_index(t, "persona_usage_logs", "persona_id,created_at"));
    assert_true(has_index(t, "channel_analytics", "channel_id,date"));
    /* and the indexes behind the seed's unique constraints */
    assert_true(has_index(t, "channels", "user_id,youtube_channel_id"));
    assert_true(has_index(t, "persona_history", "persona_id,version"));
    assert_true(has_index(t, "channel_analytics", "channel_id,date,period"));
    assert_false(has_index(t, "channels", "name"));
}

/* ---- CHECK constraints -------------------------------------------------- */

static int insert_persona(testdb *t, db_error *de, const char *type, const char *owner,
                          double temperature, double top_p, int64_t top_k, const char *visibility)
{
    char id[37];
    uuid_v7(id);
    int rc = testdb_execf(t, de,
                          "INSERT INTO personas (id, type, owner_id, visibility, name, "
                          "system_instruction, temperature, top_p, top_k, created_at, updated_at) "
                          "VALUES ($1, $2, $3, $4, 'P', 'Be brief.', $5, $6, $7, $8, $8)",
                          "ssssddit", id, type, owner, visibility, temperature, top_p, top_k,
                          time_now_usec());
    if (rc == 0)
        fixture_persona_history(t, id);
    return rc;
}

static void test_persona_sampling_values_outside_their_ranges_are_refused(void **state)
{
    testdb *t = *state;
    char u[37];
    fixture_user(t, "a@example.com", u);
    db_error de;
    assert_int_equal(insert_persona(t, &de, "CUSTOM", u, 2.0, 1.0, 1, "PRIVATE"), 0);
    assert_int_equal(insert_persona(t, &de, "CUSTOM", u, 0.0, 0.0, 1, "PUBLIC"), 0);
    const struct {
        double temp, top_p;
        int64_t top_k;
    } bad[] = {{2.01, 0.5, 40}, {-0.1, 0.5, 40}, {1.0, 1.5, 40}, {1.0, -0.01, 40}, {1.0, 0.5, 0}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(
            insert_persona(t, &de, "CUSTOM", u, bad[i].temp, bad[i].top_p, bad[i].top_k, "PRIVATE"),
            DB_ERR);
        assert_int_equal(de.fault, DB_FAULT_CHECK);
    }
}

static void test_persona_type_visibility_and_owner_must_agree(void **state)
{
    testdb *t = *state;
    char u[37];
    fixture_user(t, "a@example.com", u);
    db_error de;
    assert_int_equal(insert_persona(t, &de, "SYSTEM", NULL, 1.0, 0.9, 40, "PUBLIC"), 0);
    /* A SYSTEM persona has no owner, a CUSTOM one must have one. */
    assert_int_equal(insert_persona(t, &de, "SYSTEM", u, 1.0, 0.9, 40, "PUBLIC"), DB_ERR);
    assert_int_equal(de.fault, DB_FAULT_CHECK);
    assert_int_equal(insert_persona(t, &de, "CUSTOM", NULL, 1.0, 0.9, 40, "PUBLIC"), DB_ERR);
    assert_int_equal(de.fault, DB_FAULT_CHECK);
    assert_int_equal(insert_persona(t, &de, "OTHER", NULL, 1.0, 0.9, 40, "PUBLIC"), DB_ERR);
    assert_int_equal(de.fault, DB_FAULT_CHECK);
    assert_int_equal(insert_persona(t, &de, "CUSTOM", u, 1.0, 0.9, 40, "SHARED"), DB_ERR);
    assert_int_equal(de.fault, DB_FAULT_CHECK);
}

static void test_enumerated_statuses_refuse_unknown_values(void **state)
{
    testdb *t = *state;
    char u[37], pr[37], sc[37];
    fixture_user(t, "a@example.com", u);
    fixture_project(t, u, NULL, NULL, pr);
    db_error de;
    assert_int_equal(testdb_execf(t, &de, "UPDATE users SET role = 'root' WHERE id = $1", "s", u),
                     DB_ERR);
    assert_int_equal(de.fault, DB_FAULT_CHECK);
    assert_int_equal(
        testdb_execf(t, &de, "UPDATE projects SET status = 'lost' WHERE id = $1", "s", pr), DB_ERR);
    assert_int_equal(de.fault, DB_FAULT_CHECK);
    assert_int_equal(
        testdb_execf(t, &de, "UPDATE projects SET status = 'scripted' WHERE id = $1", "s", pr), 0);
    /* Back to a draft: a scripted project without a successful attempt is
     * a state only this test makes. */
    assert_int_equal(
        testdb_execf(t, &de, "UPDATE projects SET status = 'draft' WHERE id = $1", "s", pr), 0);
    uuid_v7(sc);
    assert_int_equal(testdb_execf(t, &de,
                                  "INSERT INTO scenes (id, project_id, user_id, position, "
                                  "image_status, created_at, updated_at) VALUES ($1, $2, $3, 0, "
                                  "'DONE', $4, $4)",
                                  "ssst", sc, pr, u, time_now_usec()),
                     DB_ERR);
    assert_int_equal(de.fault, DB_FAULT_CHECK);
}

static void test_a_missing_required_column_is_a_not_null_fault(void **state)
{
    testdb *t = *state;
    db_error de;
    char id[37];
    uuid_v7(id);
    int rc = testdb_execf(t, &de,
                          "INSERT INTO plans (id, code, name, rank, created_at, updated_at) VALUES "
                          "($1, 'x', NULL, 99, $2, $2)",
                          "st", id, time_now_usec());
    assert_int_equal(rc, DB_ERR);
    assert_int_equal(de.fault, DB_FAULT_NOT_NULL);
}

/* ---- column types ------------------------------------------------------- */

static void test_every_column_type_round_trips(void **state)
{
    testdb *t = *state;
    char u[37], c[37], a[37];
    fixture_user(t, "a@example.com", u);
    fixture_channel(t, u, "UC-types", NULL, c);
    /* text with multi-byte UTF-8, a bigint past 2^31, a fraction, a boolean,
     * a microsecond timestamp, a date, a blob with NUL bytes, JSON. */
    const char *name = "Canal São Paulo — 日本 🎬";
    int64_t subs = 5000000000LL;
    int64_t when = 1795000000123456LL;
    unsigned char blob[] = {0, 1, 2, 0xff, 0, 0x80};
    db_error de;
    assert_int_equal(testdb_execf(t, &de,
                                  "UPDATE channels SET name = $1, subscriber_count = $2, "
                                  "auto_optimize = $3, stats_updated_at = $4, thumbnail = $5 "
                                  "WHERE id = $6",
                                  "sibtns", name, subs, 1, when, c),
                     0);
    uuid_v7(a);
    assert_int_equal(testdb_execf(t, &de,
                                  "INSERT INTO accounts (id, user_id, provider, "
                                  "provider_account_id, access_token_enc, created_at, updated_at) "
                                  "VALUES ($1, $2, 'google', 'g-1', $3, $4, $4)",
                                  "ssxt", a, u, blob, sizeof(blob), when),
                     0);
    uuid_v7(a);
    assert_int_equal(testdb_execf(t, &de,
                                  "INSERT INTO channel_analytics (id, channel_id, user_id, date, "
                                  "period, avg_retention, avg_ctr, created_at, updated_at) VALUES "
                                  "($1, $2, $3, '2026-02-28', 'DAY', $4, $5, $6, $6)",
                                  "sssddt", a, c, u, 41.125, 0.1, when),
                     0);
    /* Its ISO week, as the rollup writes it: no views weigh the ratios. */
    uuid_v7(a);
    assert_int_equal(testdb_execf(t, &de,
                                  "INSERT INTO channel_analytics (id, channel_id, user_id, date, "
                                  "period, created_at, updated_at) VALUES "
                                  "($1, $2, $3, '2026-02-23', 'WEEK', $4, $4)",
                                  "ssst", a, c, u, when),
                     0);

    db_sql q = DB_SQL("SELECT c.name, c.subscriber_count, c.auto_optimize, c.stats_updated_at, "
                      "c.thumbnail, a.access_token_enc, ca.date, ca.avg_retention, ca.avg_ctr, "
                      "c.id, p.tags FROM channels c JOIN accounts a ON a.user_id = c.user_id "
                      "JOIN channel_analytics ca ON ca.channel_id = c.id AND ca.period = 'DAY' "
                      "LEFT JOIN projects p ON p.user_id = c.user_id WHERE c.id = $1");
    db_conn *conn = db_acquire(t->db);
    db_stmt *s = db_prepare(conn, &q, &de);
    assert_non_null(s);
    db_bind_text(s, 1, c);
    assert_int_equal(db_step(s, &de), DB_ROW);
    assert_string_equal(db_col_text(s, 0), name);
    assert_true(db_col_int64(s, 1) == subs);
    assert_true(db_col_bool(s, 2));
    assert_true(db_col_time(s, 3) == when);
    assert_true(db_col_is_null(s, 4));
    assert_null(db_col_text(s, 4));
    size_t n = 0;
    const unsigned char *got = db_col_blob(s, 5, &n);
    assert_int_equal(n, sizeof(blob));
    assert_memory_equal(got, blob, sizeof(blob));
    assert_string_equal(db_col_text(s, 6), "2026-02-28");
    assert_true(db_col_double(s, 7) == 41.125);
    assert_true(db_col_double(s, 8) == 0.1);
    assert_string_equal(db_col_text(s, 9), c);
    assert_true(db_col_is_null(s, 10));
    assert_int_equal(db_step(s, &de), DB_DONE);
    db_reset(s);
    db_release(conn);

    /* A project's JSON tags and default status come back as written. */
    char pr[37];
    fixture_project(t, u, c, NULL, pr);
    assert_int_equal(testdb_execf(t, &de, "UPDATE projects SET tags = $1 WHERE id = $2", "ss",
                                  "[\"space\",\"física\"]", pr),
                     0);
    assert_int_equal(testdb_scalar(t, "SELECT COUNT(*) FROM projects WHERE status = 'draft'"), 1);
}

/* ---- migrations --------------------------------------------------------- */

static void test_migrate_is_idempotent_and_records_each_version(void **state)
{
    testdb *t = *state;
    db_error de;
    int applied = -1;
    assert_int_equal(migrate_apply(t->db, &applied, &de), 0);
    assert_int_equal(applied, 0);
    int version = 0;
    assert_int_equal(migrate_current(t->db, &version, &de), 0);
    assert_int_equal(version, migrate_latest(db_engine_of(t->db)));
    /* One row per known step; numbers may have gaps (decision 17). */
    int known = 0;
    for (int i = 0; i < migrations_count; i++)
        known += migrations_all[i].engine == db_engine_of(t->db);
    assert_int_equal(testdb_scalar(t, "SELECT COUNT(*) FROM schema_migrations"), known);
    assert_int_equal(migrate_check_current(t->db, &de), 0);
    /* The starter plans are there exactly once. */
    assert_int_equal(testdb_scalar(t, "SELECT COUNT(*) FROM plans"), 3);
}

static void test_a_database_newer_than_the_binary_is_refused_and_left_untouched(void **state)
{
    testdb *t = *state;
    db_error de;
    assert_int_equal(testdb_execf(t, &de,
                                  "INSERT INTO schema_migrations (version, name, applied_at) "
                                  "VALUES (9999, 'from_the_future', $1)",
                                  "t", time_now_usec()),
                     0);
    int64_t tables_before = testdb_scalar(t, "SELECT COUNT(*) FROM schema_migrations");
    int applied = -1;
    assert_int_equal(migrate_apply(t->db, &applied, &de), DB_ERR);
    assert_int_equal(de.fault, DB_FAULT_SCHEMA);
    assert_non_null(strstr(de.message, "9999"));
    assert_int_equal(applied, 0);
    assert_int_equal(migrate_check_current(t->db, &de), DB_ERR);
    assert_int_equal(de.fault, DB_FAULT_SCHEMA);
    assert_int_equal(testdb_scalar(t, "SELECT COUNT(*) FROM schema_migrations"), tables_before);
}

static void test_an_empty_database_is_reported_as_needing_migration(void **state)
{
    testdb t2;
    testdb_create_empty(&t2);
    db_error de;
    t2.db = db_open(t2.url, 1, &de);
    assert_non_null(t2.db);
    int version = -1;
    assert_int_equal(migrate_current(t2.db, &version, &de), 0);
    assert_int_equal(version, 0);
    assert_int_equal(migrate_check_current(t2.db, &de), DB_ERR);
    assert_non_null(strstr(de.message, "pstudio migrate"));
    testdb_destroy(&t2);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_channels_reject_a_second_row_for_the_same_user_and_youtube_channel),
        T(test_persona_history_rejects_a_duplicate_version_of_one_persona),
        T(test_channel_analytics_rejects_a_duplicate_channel_date_period),
        T(test_user_email_is_unique_regardless_of_case),
        T(test_deleting_a_user_deletes_their_channels),
        T(test_deleting_a_persona_nulls_channels_and_projects_and_removes_its_history),
        T(test_deleting_a_channel_nulls_its_projects_channel),
        T(test_deleting_a_project_deletes_its_scenes),
        T(test_a_foreign_key_to_a_missing_row_is_refused),
        T(test_every_seed_index_exists_in_the_catalogue),
        T(test_persona_sampling_values_outside_their_ranges_are_refused),
        T(test_persona_type_visibility_and_owner_must_agree),
        T(test_enumerated_statuses_refuse_unknown_values),
        T(test_a_missing_required_column_is_a_not_null_fault),
        T(test_every_column_type_round_trips),
        T(test_migrate_is_idempotent_and_records_each_version),
        T(test_a_database_newer_than_the_binary_is_refused_and_left_untouched),
        cmocka_unit_test(test_an_empty_database_is_reported_as_needing_migration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
