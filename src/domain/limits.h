/*
 * limits: the length limits, in characters, of the stored text that is read
 * into fixed-size buffers. The API validates with these numbers, the
 * schema's length() CHECKs hold the same ones on both engines (both count
 * characters), and the buffers are UTF8_BUF(limit) bytes (base/text.h), so
 * a value that passes validation is stored and read back whole.
 */
#ifndef PS_DOMAIN_LIMITS_H
#define PS_DOMAIN_LIMITS_H

#include "base/text.h"

#include <stdint.h>

#define USER_EMAIL_MIN  3   /* users.email: "a@b" */
#define USER_EMAIL_MAX  254 /* users.email */
#define USER_NAME_MAX   200 /* users.name */
#define APIKEY_NAME_MAX 100 /* api_keys.name */
#define PLAN_CODE_MAX   32  /* plans.code, personas.required_plan */
#define PLAN_NAME_MAX   100 /* plans.name */

/* Values, not characters: what an admin may give a plan (the schema asks
 * only that none is negative). */
#define PLAN_RANK_MAX     1000000
#define PLAN_CHANNELS_MAX 1000000   /* plans.max_channels */
#define PLAN_MONTHLY_MAX  100000000 /* plans.max_projects_per_month, max_generations_per_month */

#define PERSONA_NAME_MAX        100
#define PERSONA_DESCRIPTION_MAX 2000
#define PERSONA_INSTRUCTION_MAX 20000
#define PERSONA_LANGUAGE_MIN    2
#define PERSONA_LANGUAGE_MAX    35
#define PERSONA_VOICE_MAX       100
#define PERSONA_VOICE_RATE_MIN  80 /* words per minute: espeak-ng's bounds */
#define PERSONA_VOICE_RATE_MAX  450
#define PERSONA_VOICE_PITCH_MAX 100
#define PERSONA_REASON_MAX      500
#define PERSONA_PREVIEW_CHARS   160       /* of the instruction, in the list (migration 0011 too) */
#define PERSONA_TEMPERATURE_MAX 2.0       /* personas.temperature, from 0 */
#define PERSONA_TOP_P_MAX       1.0       /* personas.top_p, from 0 */
#define PERSONA_TOP_K_MAX       INT32_MAX /* personas.top_k, from 1: a 32-bit integer */
#define PERSONA_VERSION_MAX     INT32_MAX /* persona_history.version: a 32-bit integer */
#define PERSONA_FORMAT_MAX      64        /* the "format" of an imported preset */

#define PROJECT_TOPIC_MAX       500
#define PROJECT_TITLE_MAX       200
#define PROJECT_DESCRIPTION_MAX 5000
#define PROJECT_TAG_MAX         100 /* characters of one tag */
#define PROJECT_TAGS_MAX        30  /* tags of a project */
#define PROJECT_SCENES_MAX      200
#define SCENE_NARRATION_MAX     10000
#define SCENE_VISUAL_MAX        5000
#define SCENE_AUDIO_ERROR_MAX   1000 /* characters of a failed narration's reason */
#define SCENE_AUDIO_PATH_MAX    128  /* a media name (providers/media_store.h) */

/* The controls of one generation, kept on the project (see script_service). */
#define SCRIPT_SCENES_MIN       1
#define SCRIPT_SCENES_MAX       30
#define SCRIPT_SECONDS_MIN      15
#define SCRIPT_SECONDS_MAX      1800
#define SCRIPT_INSTRUCTIONS_MAX 2000

/* Channels and their Google accounts. */
#define CHANNEL_YOUTUBE_ID_MAX    64   /* channels.youtube_channel_id */
#define CHANNEL_NAME_MAX          200  /* channels.name */
#define CHANNEL_THUMBNAIL_MAX     2048 /* channels.thumbnail */
#define CHANNEL_REASON_MAX        1000 /* channel_persona_assignments.reason */
#define CHANNEL_OPTIMIZER_WHY_MAX 300  /* channels.optimizer_why */
#define CHANNEL_IMPORT_MAX        50   /* YouTube channels one import names */
#define OAUTH_STATE_MAX           512  /* the state a Google callback carries (we send 43) */

/* Channel analytics (channel_analytics, analytics_backfills). */
#define ANALYTICS_RETENTION_MAX 10000 /* avg_retention: a looping Short passes 100 % */
#define ANALYTICS_CTR_MAX       100   /* avg_ctr, a percentage */
#define ANALYTICS_RANGE_MAX     1096  /* days one read or backfill may span: three years */
#define ANALYTICS_CHUNK_DAYS    30    /* days one Analytics call and one transaction hold */

#define JOB_KIND_MAX     64 /* jobs.kind */
#define USAGE_ACTION_MAX 64 /* persona_usage_logs.action */

/* The audit trail (audit_events; migration 0021 holds the same numbers). */
#define AUDIT_ACTION_MAX      64    /* audit_events.action */
#define AUDIT_OBJECT_TYPE_MAX 32    /* audit_events.object_type */
#define AUDIT_OBJECT_ID_MAX   64    /* audit_events.object_id */
#define AUDIT_DETAIL_MAX      2000  /* bytes of the compact detail JSON (the schema allows more) */
#define AUDIT_RETENTION_MAX   36500 /* days PSTUDIO_AUDIT_RETENTION_DAYS may name: a century */

#define SESSION_CSRF_MAX       64  /* sessions.csrf_token */
#define SESSION_USER_AGENT_MAX 512 /* sessions.user_agent */
#define RATE_LIMIT_BUCKET_MAX  300 /* rate_limits.bucket */

#define IDEMPOTENCY_KEY_MAX     200 /* idempotency_keys.idem_key */
#define IDEMPOTENCY_FINGERPRINT 64  /* idempotency_keys.fingerprint: hex SHA-256 */

#endif
