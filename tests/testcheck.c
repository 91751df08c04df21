/*
 * The consistency checker (SQLite's PRAGMA integrity_check, Redis's
 * intsetValidateIntegrity) for the invariants the schema cannot state.
 * testdb_destroy() runs it, so every test of every engine-dependent suite
 * also proves them. Each check is one query that returns the rows breaking
 * its invariant; the first such row fails the test, named.
 *
 * What is invariant, precisely (and what looks so but is not):
 * - A persona's history is versions 1..version, one row each: every write
 *   of a persona writes its history row in the same transaction.
 * - A project's scene positions are 0..n-1 (the API's positions are
 *   0-based), each once; a scene belongs to its project's user.
 * - A project that is queued or generating has a live (queued or running)
 *   script job at its current generation: the job is queued in the
 *   transaction that queues the project, and whatever ends the job (its
 *   handler, or the dead-job hook) first sets the project back. A live
 *   job's generation is never ahead of its project's. NOT invariant: "every
 *   job's project exists": deleting a project while its generation is
 *   pending is allowed, and the job then completes touching nothing.
 * - Usage logs: a successful attempt's usage row commits with its job's
 *   completion, so a project has no more successful rows than done script
 *   jobs, counting rows younger than the job retention (older jobs may be
 *   pruned, decision 36); and a scripted project has at least one (only a
 *   successful attempt makes a project scripted). NOT invariant: "one row
 *   per attempt": a failed attempt's row is written on its own and a fault
 *   there is logged, not retried, and an admin requeue resets attempts.
 *   Nor "a scripted project has scenes": its owner may delete them all.
 * - A channel's persona is the one its latest assignment row names (a
 *   channel whose persona is archived lets go of it with a row naming no
 *   persona). No channel or plan default names an archived persona.
 * - A channel's WEEK analytics rows are the rollup of its DAY rows, one per
 *   ISO week that has days, dated its Monday: the counts summed, retention
 *   and view duration weighted by views, CTR by impressions (reals within
 *   a relative 1e-9). The rollup runs in the transaction that writes the
 *   days. An analytics row or backfill belongs to its channel's user.
 * - A DAY analytics row whose day has a Reporting API reach row carries its
 *   impressions and CTR (both writers merge it in their transaction); a
 *   reach row or folded report belongs to its channel's user.
 * - An optimizer suggestion belongs to its channel's user.
 * - The audit trail: a user (or their API key) acting is on their own
 *   trail; acting on anyone else's is an administrator's act (actor_kind
 *   admin). An event made with an API key names a key of its actor.
 */
#include "testlib.h"

#include "base/timeutil.h"

#include <stdio.h>
#include <string.h>

#define CHECK_RETENTION_USEC (7LL * 24 * 3600 * 1000000) /* MAINTENANCE_JOB_RETENTION */

/* A job's project and generation, per engine. */
#define JOB_PROJECT_SQLITE "json_extract(j.payload, '$.project_id')"
#define JOB_GEN_SQLITE     "json_extract(j.payload, '$.generation')"
#define JOB_PROJECT_PG     "(j.payload->>'project_id')"
#define JOB_GEN_PG         "CAST(j.payload->>'generation' AS BIGINT)"
#define SCRIPT_KINDS       "j.kind IN ('script.generate', 'script.regenerate_scene')"

/* The Monday of a DAY row's ISO week, per engine. */
#define MONDAY_SQLITE(col) "date(" col ", 'weekday 0', '-6 days')"
#define MONDAY_PG(col)     "CAST(date_trunc('week', " col ") AS date)"
/* A week's numbers from its days. */
#define WEEK_OF_DAYS(monday)                                                                       \
    "SELECT channel_id, " monday " AS monday, sum(views) AS views, sum(likes) AS likes, "          \
    "sum(comments) AS comments, sum(shares) AS shares, sum(watch_time_minutes) AS wt, "            \
    "sum(subscribers_gained) AS sg, sum(subscribers_lost) AS sl, sum(impressions) AS imp, "        \
    "sum(CASE WHEN avg_retention IS NOT NULL THEN avg_retention * views END) / "                   \
    "NULLIF(sum(CASE WHEN avg_retention IS NOT NULL THEN views END) * 1.0, 0) AS ret, "            \
    "sum(CASE WHEN avg_view_duration_seconds IS NOT NULL THEN avg_view_duration_seconds * views "  \
    "END) / NULLIF(sum(CASE WHEN avg_view_duration_seconds IS NOT NULL THEN views END) * 1.0, 0) " \
    "AS dur, sum(CASE WHEN avg_ctr IS NOT NULL THEN avg_ctr * impressions END) / "                 \
    "NULLIF(sum(CASE WHEN avg_ctr IS NOT NULL THEN impressions END) * 1.0, 0) AS ctr "             \
    "FROM channel_analytics WHERE period = 'DAY' GROUP BY channel_id, " monday
/* True when two reals (either may be NULL) differ beyond rounding. */
#define REAL_DIFFERS(a, b)                                                                         \
    "((" a ") IS NULL) <> ((" b ") IS NULL) OR abs(" a " - " b ") > 1e-9 * (1 + abs(" b "))"
#define WEEK_CHECK(monday, mon_of_d)                                                                \
    "SELECT w.channel_id, w.date, w.views, x.views FROM channel_analytics w LEFT JOIN "             \
    "(" WEEK_OF_DAYS(                                                                               \
        monday) ") x ON x.channel_id = w.channel_id AND x.monday = w.date "                         \
                "WHERE w.period = 'WEEK' AND (x.channel_id IS NULL OR w.views <> x.views OR "       \
                "w.likes <> x.likes OR w.comments <> x.comments OR w.shares <> x.shares OR "        \
                "w.subscribers_gained <> x.sg OR w.subscribers_lost <> x.sl OR "                    \
                "(w.impressions IS NULL) <> (x.imp IS NULL) OR w.impressions <> x.imp "             \
                "OR " REAL_DIFFERS("w.watch_time_minutes", "x.wt") " OR " REAL_DIFFERS(             \
                    "w.avg_retention",                                                              \
                    "x.ret") " OR " REAL_DIFFERS("w.avg_view_duration_seconds",                     \
                                                 "x.dur") " OR " REAL_DIFFERS("w.avg_ctr",          \
                                                                              "x.ctr") ") UNION "   \
                                                                                       "ALL "       \
                                                                                       "SELECT "    \
                                                                                       "d."         \
                                                                                       "channel_"   \
                                                                                       "id, "       \
                                                                                       "d.date, "   \
                                                                                       "d.views, "  \
                                                                                       "NULL "      \
                                                                                       "FROM "      \
                                                                                       "channel_"   \
                                                                                       "analytics"  \
                                                                                       " d WHERE "  \
                                                                                       "d.period "  \
                                                                                       "= 'DAY' "   \
                                                                                       "AND NOT "   \
                                                                                       "EXISTS "    \
                                                                                       "(SELECT "   \
                                                                                       "1 FROM "    \
                                                                                       "channel_"   \
                                                                                       "analytics"  \
                                                                                       " w2 "       \
                                                                                       "WHERE "     \
                                                                                       "w2."        \
                                                                                       "channel_"   \
                                                                                       "id = "      \
                                                                                       "d."         \
                                                                                       "channel_"   \
                                                                                       "id AND "    \
                                                                                       "w2."        \
                                                                                       "period = "  \
                                                                                       "'WEEK' "    \
                                                                                       "AND "       \
                                                                                       "w2.date "   \
                                                                                       "="          \
                                                                                       " " mon_of_d \
                                                                                       ")"

typedef struct check {
    const char *invariant;
    db_sql sql; /* rows breaking it; $1 is bound to the retention cutoff when used */
} check;

static check checks[] = {
    {"a WEEK analytics row is the rollup of its ISO week's DAY rows, and every week with days "
     "has one (channel, date, views, views of its days)",
     DB_SQL2(WEEK_CHECK(MONDAY_SQLITE("date"), MONDAY_SQLITE("d.date")),
             WEEK_CHECK(MONDAY_PG("date"), MONDAY_PG("d.date")))},
    {"an analytics row or backfill belongs to its channel's user (row, row user, channel user)",
     DB_SQL("SELECT a.id, a.user_id, c.user_id FROM channel_analytics a JOIN channels c ON c.id = "
            "a.channel_id WHERE a.user_id <> c.user_id UNION ALL SELECT b.id, b.user_id, "
            "c.user_id FROM analytics_backfills b JOIN channels c ON c.id = b.channel_id WHERE "
            "b.user_id <> c.user_id")},
    {"a DAY analytics row has the reach the Reporting API gave its day (channel, date, "
     "impressions, reach impressions)",
     DB_SQL2("SELECT a.channel_id, a.date, a.impressions, r.impressions FROM channel_analytics a "
             "JOIN channel_reach_days r ON r.channel_id = a.channel_id AND r.date = a.date WHERE "
             "a.period = 'DAY' AND (a.impressions IS NOT r.impressions OR " REAL_DIFFERS(
                 "a.avg_ctr", "r.avg_ctr") ")",
             "SELECT a.channel_id, a.date, a.impressions, r.impressions FROM channel_analytics a "
             "JOIN channel_reach_days r ON r.channel_id = a.channel_id AND r.date = a.date WHERE "
             "a.period = 'DAY' AND (a.impressions IS DISTINCT FROM r.impressions OR " REAL_DIFFERS(
                 "a.avg_ctr", "r.avg_ctr") ")")},
    {"a channel's reach and folded reports belong to its user (row, row user, channel user)",
     DB_SQL("SELECT r.id, r.user_id, c.user_id FROM channel_reach_days r JOIN channels c ON c.id = "
            "r.channel_id WHERE r.user_id <> c.user_id UNION ALL SELECT p.id, p.user_id, "
            "c.user_id FROM channel_reach_reports p JOIN channels c ON c.id = p.channel_id WHERE "
            "p.user_id <> c.user_id")},
    {"a persona's history is versions 1..version (persona, version, history count, min, max)",
     DB_SQL("SELECT p.id, p.version, count(h.id), min(h.version), max(h.version) "
            "FROM personas p LEFT JOIN persona_history h ON h.persona_id = p.id "
            "GROUP BY p.id, p.version HAVING count(h.id) <> p.version OR min(h.version) <> 1 "
            "OR max(h.version) <> p.version")},
    {"a project's scene positions are 0..n-1, each once (project, scenes, min, max, distinct)",
     DB_SQL("SELECT project_id, count(*), min(position), max(position), count(DISTINCT position) "
            "FROM scenes GROUP BY project_id HAVING min(position) <> 0 OR "
            "max(position) <> count(*) - 1 OR count(DISTINCT position) <> count(*)")},
    {"a scene belongs to its project's user (scene, scene user, project user)",
     DB_SQL("SELECT s.id, s.user_id, p.user_id FROM scenes s JOIN projects p ON p.id = "
            "s.project_id WHERE s.user_id <> p.user_id")},
    {"a queued or generating project has a live script job at its generation (project, status, "
     "generation)",
     DB_SQL2("SELECT p.id, p.status, p.generation FROM projects p WHERE p.status IN ('queued', "
             "'generating') AND NOT EXISTS (SELECT 1 FROM jobs j WHERE " SCRIPT_KINDS
             " AND j.status IN ('queued', 'running') AND " JOB_PROJECT_SQLITE
             " = p.id AND " JOB_GEN_SQLITE " = p.generation)",
             "SELECT p.id, p.status, p.generation FROM projects p WHERE p.status IN ('queued', "
             "'generating') AND NOT EXISTS (SELECT 1 FROM jobs j WHERE " SCRIPT_KINDS
             " AND j.status IN ('queued', 'running') AND " JOB_PROJECT_PG
             " = CAST(p.id AS TEXT) AND " JOB_GEN_PG " = p.generation)")},
    {"a live script job is not ahead of its project's generation (job, job generation, project "
     "generation)",
     DB_SQL2("SELECT j.id, " JOB_GEN_SQLITE ", p.generation FROM jobs j JOIN projects p ON "
             "p.id = " JOB_PROJECT_SQLITE " WHERE " SCRIPT_KINDS
             " AND j.status IN ('queued', 'running') AND " JOB_GEN_SQLITE " > p.generation",
             "SELECT j.id, " JOB_GEN_PG ", p.generation FROM jobs j JOIN projects p ON "
             "CAST(p.id AS TEXT) = " JOB_PROJECT_PG " WHERE " SCRIPT_KINDS
             " AND j.status IN ('queued', 'running') AND " JOB_GEN_PG " > p.generation")},
    {"a scripted project has a successful usage-log row (project)",
     DB_SQL("SELECT p.id FROM projects p WHERE p.status = 'scripted' AND NOT EXISTS (SELECT 1 "
            "FROM persona_usage_logs u WHERE u.project_id = p.id AND u.success)")},
    {"a project has no more recent successful usage rows than done script jobs (project, rows)",
     DB_SQL2("SELECT u.project_id, count(*) FROM persona_usage_logs u WHERE u.success AND "
             "u.project_id IS NOT NULL AND u.created_at >= $1 GROUP BY u.project_id HAVING "
             "count(*) > (SELECT count(*) FROM jobs j WHERE " SCRIPT_KINDS
             " AND j.status = 'done' AND " JOB_PROJECT_SQLITE " = u.project_id)",
             "SELECT u.project_id, count(*) FROM persona_usage_logs u WHERE u.success AND "
             "u.project_id IS NOT NULL AND u.created_at >= $1 GROUP BY u.project_id HAVING "
             "count(*) > (SELECT count(*) FROM jobs j WHERE " SCRIPT_KINDS
             " AND j.status = 'done' AND " JOB_PROJECT_PG " = CAST(u.project_id AS TEXT))")},
    {"a channel's persona is the one its latest assignment names (channel, channel's persona, "
     "assignment's persona)",
     DB_SQL("SELECT c.id, c.persona_id, a.persona_id FROM channels c LEFT JOIN "
            "channel_persona_assignments a ON a.id = (SELECT a2.id FROM "
            "channel_persona_assignments a2 WHERE a2.channel_id = c.id ORDER BY a2.id DESC "
            "LIMIT 1) "
            "WHERE (c.persona_id IS NOT NULL AND (a.id IS NULL OR a.persona_id IS NULL OR "
            "a.persona_id <> c.persona_id)) OR (c.persona_id IS NULL AND a.persona_id IS NOT "
            "NULL)")},
    {"a video's analytics name its project's channel, user and persona (row, project)",
     DB_SQL("SELECT v.id, j.id FROM video_analytics v JOIN projects j ON j.id = v.project_id "
            "WHERE v.user_id <> j.user_id OR j.channel_id IS NULL OR v.channel_id <> j.channel_id "
            "OR (v.persona_id IS NULL) <> (j.persona_id IS NULL) OR v.persona_id <> j.persona_id "
            "OR v.persona_version <> j.persona_version")},
    {"an optimizer suggestion belongs to its channel's user (suggestion, its user, channel user)",
     DB_SQL("SELECT s.id, s.user_id, c.user_id FROM optimizer_suggestions s JOIN channels c ON "
            "c.id = s.channel_id WHERE s.user_id <> c.user_id")},
    {"a user's or API key's audit event is on the actor's own trail (event, kind, actor, "
     "subject)",
     DB_SQL("SELECT id, actor_kind, actor_user_id, subject_user_id FROM audit_events WHERE "
            "actor_kind IN ('user', 'api_key') AND (subject_user_id IS NULL OR "
            "subject_user_id <> actor_user_id)")},
    {"an audit event made with an API key names a key of its actor (event, key, actor)",
     DB_SQL("SELECT e.id, e.actor_api_key_id, e.actor_user_id FROM audit_events e WHERE "
            "e.actor_api_key_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM api_keys k WHERE "
            "k.id = e.actor_api_key_id AND k.user_id = e.actor_user_id)")},
    {"no channel or plan default names an archived persona (channel or plan, persona)",
     DB_SQL("SELECT c.id, c.persona_id FROM channels c JOIN personas p ON p.id = c.persona_id "
            "WHERE p.archived_at IS NOT NULL UNION ALL SELECT pl.id, pl.default_persona_id FROM "
            "plans pl JOIN personas p ON p.id = pl.default_persona_id WHERE p.archived_at IS NOT "
            "NULL")},
};

int testdb_check_quiet(testdb *t, char *why, size_t n)
{
    db_conn *c = db_acquire(t->db);
    int bad = 0;
    for (size_t k = 0; k < sizeof(checks) / sizeof(checks[0]) && !bad; k++) {
        db_error de;
        db_stmt *s = db_prepare(c, &checks[k].sql, &de);
        if (s == NULL) {
            snprintf(why, n, "checking that %s: %s", checks[k].invariant, de.message);
            bad = -1;
            break;
        }
        if (strstr(checks[k].sql.sqlite, "$1") != NULL)
            db_bind_time(s, 1, time_now_usec() - CHECK_RETENTION_USEC);
        int rc = db_step(s, &de);
        if (rc == DB_ERR) {
            snprintf(why, n, "checking that %s: %s", checks[k].invariant, de.message);
            bad = -1;
        } else if (rc == DB_ROW) {
            size_t used =
                (size_t)snprintf(why, n, "broken invariant: %s; row:", checks[k].invariant);
            for (int i = 0; i < db_col_count(s) && used < n; i++) {
                const char *v = db_col_text(s, i);
                used += (size_t)snprintf(why + used, n - used, " %s", v ? v : "NULL");
            }
            bad = 1;
        }
        db_reset(s);
    }
    db_release(c);
    return bad;
}

void testdb_check(testdb *t)
{
    char why[2048];
    if (testdb_check_quiet(t, why, sizeof(why)) != 0)
        fail_msg("%s", why);
}
