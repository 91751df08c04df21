/*
 * attribution_sql: the one SQL text that says which persona a channel's
 * numbers of a day belong to (decisions 77 and 140), shared by the stores
 * that read attributed figures (performance_store, optimizer_store), so the
 * leaderboard, the roll-ups and the optimizer can never disagree.
 *
 * A unit is (channel, date, persona). A channel's DAY row is split:
 *  - each of its published videos with a row that day (video_analytics)
 *    whose project's persona is known gives that persona its views, watch
 *    time, subscribers and view-weighted retention;
 *  - the remainder (the day less those videos, views and watch time never
 *    below 0) goes to the persona of the channel's latest assignment made
 *    before the day's end, with the day's own retention;
 * and the parts of one persona on one channel-day are one unit. The day's
 * impressions are shared among its units by views (per-video impressions
 * are not in reports.query); its CTR is every unit's. A channel-day with no
 * attributed video row is exactly one unit, equal to the row itself, so
 * channels without published videos read as before. A unit whose persona
 * is NULL is unattributed (no assignment, or a cleared one).
 *
 * ATTR_UNITS_SQL(E, X, DF) is a parenthesised derived table with the
 * columns channel_id, user_id, date, persona_id, explored (1 when the
 * rest's assignment was an optimizer's exploration), views,
 * watch_time_minutes, impressions, avg_retention, avg_ctr, net (subscribers
 * gained less lost), the sums as doubles. E is the day's end as the engine
 * compares it with created_at (over d.date), X says whether assignment a
 * explored, DF filters the DAY rows d (" AND …", in both parts); $1..$2
 * bound the dates.
 */
#ifndef PS_DOMAIN_ATTRIBUTION_SQL_H
#define PS_DOMAIN_ATTRIBUTION_SQL_H

/* Doubles: CAST(… AS double precision) is REAL on SQLite (its affinity
 * rules read "DOUB") and double precision on PostgreSQL, so one text serves
 * both engines but for E and X. */

/* The attributed videos of each channel-day of the range, summed, joined
 * to its DAY row d (s.sv, s.sw, s.sn; NULL: none). One grouped read of the
 * range's video rows rather than three correlated sums per DAY row:
 * PostgreSQL pulled those up into the rest's expressions, 13 subplans a
 * row (decision 158). DF filters the video rows as it does the DAY rows
 * (video_analytics has the columns it names: channel_id, user_id, date,
 * views), so a user's read groups only that user's videos. */
#define ATTR__VSUMS(DF)                                                                            \
    "LEFT JOIN (SELECT d.channel_id, d.date, sum(CAST(d.views AS double precision)) AS sv, "       \
    "sum(CAST(d.watch_time_minutes AS double precision)) AS sw, "                                  \
    "sum(CAST(d.subscribers_gained - d.subscribers_lost AS double precision)) AS sn "              \
    "FROM video_analytics d WHERE d.persona_id IS NOT NULL AND d.date >= $1 AND d.date <= $2" DF   \
    " GROUP BY d.channel_id, d.date) s ON s.channel_id = d.channel_id AND s.date = d.date "
/* The rest's views and watch time: the day's less its videos', not below 0. */
#define ATTR__RV                                                                                   \
    "(CASE WHEN r.sv IS NULL THEN CAST(r.views AS double precision) WHEN r.views > r.sv THEN "     \
    "r.views - r.sv ELSE 0 END)"
#define ATTR__RW                                                                                   \
    "(CASE WHEN r.sw IS NULL THEN CAST(r.watch_time_minutes AS double precision) WHEN "            \
    "r.watch_time_minutes > r.sw THEN r.watch_time_minutes - r.sw ELSE 0 END)"

/* A video's part of its channel-day, driven by the video rows of the range
 * (few, and none on most channels) so no plan scans the DAY rows for them. */
#define ATTR__VIDEO_PART(DF)                                                                       \
    "SELECT d.channel_id, d.user_id, d.date, v.persona_id, 0 AS explored, 1 AS video, "            \
    "CAST(v.views AS double precision) AS views, "                                                 \
    "CAST(v.watch_time_minutes AS double precision) AS watch, "                                    \
    "CASE WHEN d.impressions IS NOT NULL AND d.views > 0 THEN "                                    \
    "CAST(d.impressions AS double precision) * v.views / d.views END AS impressions, "             \
    "NULL AS retention, "                                                                          \
    "CASE WHEN v.avg_retention IS NOT NULL THEN v.avg_retention * v.views END AS ret_w, "          \
    "CASE WHEN v.avg_retention IS NOT NULL THEN CAST(v.views AS double precision) END AS ret_v, "  \
    "d.avg_ctr AS ctr, "                                                                           \
    "CAST(v.subscribers_gained - v.subscribers_lost AS double precision) AS net "                  \
    "FROM video_analytics v JOIN channel_analytics d ON d.channel_id = v.channel_id AND "          \
    "d.date = v.date AND d.period = 'DAY' WHERE v.persona_id IS NOT NULL AND v.date >= $1 AND "    \
    "v.date <= $2 AND d.date >= $1 AND d.date <= $2" DF

/* The channel-day with its assignment and its videos' sums. */
#define ATTR__DAY(E, X, DF)                                                                        \
    "SELECT d.channel_id, d.user_id, d.date, d.views, d.watch_time_minutes, d.impressions, "       \
    "d.avg_retention, d.avg_ctr, d.subscribers_gained - d.subscribers_lost AS net0, "              \
    "a.persona_id, CASE WHEN a.source = 'optimizer' AND " X                                        \
    " THEN 1 ELSE 0 END AS explored, s.sv, s.sw, s.sn "                                            \
    "FROM channel_analytics d LEFT JOIN channel_persona_assignments a ON a.id = ("                 \
    "SELECT x.id FROM channel_persona_assignments x WHERE x.channel_id = d.channel_id "            \
    "AND x.created_at < " E " ORDER BY x.created_at DESC, x.id DESC LIMIT 1) " ATTR__VSUMS(        \
        DF) "WHERE d.period = 'DAY' AND d.date >= $1 AND d.date <= $2" DF

/* The rest of the channel-day, to its assigned persona. */
#define ATTR__REST_PART(E, X, DF)                                                                  \
    "SELECT r.channel_id, r.user_id, r.date, r.persona_id, r.explored, 0, " ATTR__RV ", " ATTR__RW \
    ", "                                                                                           \
    "CASE WHEN r.impressions IS NULL THEN NULL "                                                   \
    "WHEN r.sv IS NULL OR r.views = 0 THEN CAST(r.impressions AS double precision) "               \
    "ELSE r.impressions * " ATTR__RV " / r.views END, "                                            \
    "r.avg_retention, "                                                                            \
    "CASE WHEN r.avg_retention IS NOT NULL THEN r.avg_retention * " ATTR__RV " END, "              \
    "CASE WHEN r.avg_retention IS NOT NULL THEN " ATTR__RV " END, "                                \
    "r.avg_ctr, CAST(r.net0 AS double precision) - COALESCE(r.sn, 0) "                             \
    "FROM (" ATTR__DAY(E, X, DF) ") r"

#define ATTR_UNITS_SQL(E, X, DF)                                                                   \
    "(SELECT u.channel_id, u.user_id, u.date, u.persona_id, max(u.explored) AS explored, "         \
    "sum(u.views) AS views, sum(u.watch) AS watch_time_minutes, "                                  \
    "sum(u.impressions) AS impressions, CASE WHEN sum(u.video) = 0 THEN max(u.retention) "         \
    "ELSE sum(u.ret_w) / NULLIF(sum(u.ret_v), 0) END AS avg_retention, max(u.ctr) AS avg_ctr, "    \
    "sum(u.net) AS net FROM (" ATTR__VIDEO_PART(DF) " UNION ALL " ATTR__REST_PART(                 \
        E, X, DF) ") u GROUP BY u.channel_id, u.user_id, u.date, u.persona_id)"

#endif
